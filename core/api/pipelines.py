"""Sales pipelines with ordered stages, and closing deals (win / lose)."""

import datetime as dt

from flask import Blueprint
from pydantic import Field, create_model, field_validator
from sqlalchemy import select

from opiekun.api.core_record_schemas import DealOut
from opiekun.api.pagination import paginate
from opiekun.api.schemas import InputModel, OutputModel, Page, PageQuery, Text
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.errors import Conflict, Message
from opiekun.extensions import db
from opiekun.lookups import get_by_id
from opiekun.models import Pipeline, PipelineStage
from opiekun.record_queries import get_record
from opiekun.record_registry import record_types
from opiekun.record_rules import close_deal, require_change_right

TAGS = ["Pipelines"]


class StageIn(InputModel):
    name: Text(100, min_length=1)
    probability: int | None = Field(None, ge=0, le=100)


class PipelineCreate(InputModel):
    name: Text(100, min_length=1)
    stages: list[StageIn] = Field(min_length=1, max_length=50, description="in order")

    @field_validator("stages")
    @classmethod
    def stage_names_unique(cls, stages: list[StageIn]) -> list[StageIn]:
        names = [stage.name for stage in stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique within a pipeline")
        return stages


class StageOut(OutputModel):
    id: int
    name: str
    position: int
    probability: int | None


class PipelineOut(OutputModel):
    id: int
    name: str
    created_at: dt.datetime
    stages: list[StageOut]


PipelinePage = create_model("PipelinePage", __base__=Page[PipelineOut])


class LoseRequest(InputModel):
    reason: Text(500) | None = None


@validate(query=PageQuery, answers={200: PipelinePage}, tags=TAGS, operation_id="list_pipelines")
def list_pipelines():
    query = request_query()
    return paginate(select(Pipeline).order_by(Pipeline.id), query, PipelineOut, PipelinePage)


@validate(
    json=PipelineCreate,
    answers={201: PipelineOut},
    tags=TAGS,
    operation_id="create_pipeline",
    permission="pipelines.manage",
)
def create_pipeline():
    body = request_body()
    if db.session.scalar(select(Pipeline.id).where(Pipeline.name == body.name)) is not None:
        raise Conflict(Message("a pipeline with this name exists"), {"name": Message("already used")})
    pipeline = Pipeline(
        name=body.name,
        stages=[
            PipelineStage(name=stage.name, position=position, probability=stage.probability)
            for position, stage in enumerate(body.stages, start=1)
        ],
    )
    db.session.add(pipeline)
    db.session.commit()
    return PipelineOut.model_validate(pipeline), 201


@validate(answers={200: PipelineOut}, tags=TAGS, operation_id="get_pipeline")
def get_pipeline(pipeline_id: int):
    pipeline = get_by_id(Pipeline, pipeline_id, Message("no pipeline with id %(id)s", id=pipeline_id))
    return PipelineOut.model_validate(pipeline)


def _closable_deal(deal_id: int):
    deal_type = record_types().get("deal")
    deal = get_record(deal_type, deal_id, for_change=True)
    require_change_right(current_api_user(), deal_type, deal, "update")
    return deal


@validate(answers={200: DealOut}, tags=["Deals"], operation_id="win_deal")
def win_deal(deal_id: int):
    deal = close_deal(_closable_deal(deal_id), "won", None)
    db.session.commit()
    return DealOut.model_validate(deal)


@validate(json=LoseRequest, answers={200: DealOut}, tags=["Deals"], operation_id="lose_deal")
def lose_deal(deal_id: int):
    body = request_body()
    deal = close_deal(_closable_deal(deal_id), "lost", body.reason if body else None)
    db.session.commit()
    return DealOut.model_validate(deal)


def add_routes(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/pipelines", "list_pipelines", list_pipelines, methods=["GET"])
    blueprint.add_url_rule("/pipelines", "create_pipeline", create_pipeline, methods=["POST"])
    blueprint.add_url_rule("/pipelines/<int:pipeline_id>", "get_pipeline", get_pipeline, methods=["GET"])
    blueprint.add_url_rule("/deals/<int:deal_id>/win", "win_deal", win_deal, methods=["POST"])
    blueprint.add_url_rule("/deals/<int:deal_id>/lose", "lose_deal", lose_deal, methods=["POST"])
