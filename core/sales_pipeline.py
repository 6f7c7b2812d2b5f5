"""The sales pipeline a fresh install starts with, so that the first deal needs no set-up.

``opiekun init`` (and ``opiekun demo``) call :func:`ensure_default_pipeline`: when no
pipeline exists at all it creates "Sprzedaż" with its stages; otherwise it leaves every
pipeline as it is, so a deployment may rename the default one, change its stages or
replace it with its own.
"""

from __future__ import annotations

from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Pipeline, PipelineStage

DEFAULT_PIPELINE_NAME = "Sprzedaż"
#: The stages of the default pipeline, in order, with the probability of winning (%).
DEFAULT_STAGES = (("Nowa", 10), ("Kwalifikacja", 25), ("Oferta", 50), ("Negocjacje", 75), ("Decyzja", 90))


def ensure_default_pipeline() -> Pipeline | None:
    """Create the default pipeline when there is none at all (the caller commits); the
    pipeline created, or ``None`` when pipelines exist already."""
    if db.session.scalar(select(Pipeline.id).limit(1)) is not None:
        return None
    pipeline = Pipeline(
        name=DEFAULT_PIPELINE_NAME,
        stages=[
            PipelineStage(name=name, position=position, probability=probability)
            for position, (name, probability) in enumerate(DEFAULT_STAGES, start=1)
        ],
    )
    db.session.add(pipeline)
    db.session.flush()
    return pipeline
