"""``/api/v1/ownership``: settings per record type, owner roles, assignments (one or many
records per request), the owner on a day and a user's portfolio. Thin: every rule lives in
the plugin's modules below the web (:mod:`~opiekun.plugins.ownership.assignments`,
:mod:`~opiekun.plugins.ownership.settings`, :mod:`~opiekun.plugins.ownership.reports`…)."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel

from opiekun.plugin import db, show_departed_users
from opiekun.plugin.api import (
    PageQuery,
    current_api_user,
    page_answer,
    page_of_list,
    paginate,
    request_body,
    request_query,
    validate,
)
from opiekun.plugins.ownership import assignments, lookups, periods, reports, settings
from opiekun.plugins.ownership.permissions import MANAGE_SETTINGS
from opiekun.plugins.ownership.schemas import (
    AssignmentCounts,
    AssignmentCreate,
    AssignmentOut,
    AssignmentPage,
    AssignmentQuery,
    AssignmentUpdate,
    OptionsOut,
    OptionsUpdate,
    OwnerOut,
    OwnerQuery,
    OwnerSettingsList,
    OwnerSettingsOut,
    OwnerSettingsUpdate,
    PortfolioItem,
    PortfolioPage,
    PortfolioQuery,
)

TAGS = ["Ownership"]


@validate(query=PageQuery, answers={200: OwnerSettingsList}, tags=TAGS, operation_id="ownership_list_settings")
def list_settings():
    from opiekun.plugin import record_types

    items = [OwnerSettingsOut.model_validate(settings.settings_for(name)) for name in record_types().names()]
    return page_of_list(items, request_query(), OwnerSettingsList)


@validate(answers={200: OwnerSettingsOut}, tags=TAGS, operation_id="ownership_get_settings")
def get_settings(object_type: str):
    lookups.record_type_named(object_type, status=404)
    return OwnerSettingsOut.model_validate(settings.settings_for(object_type))


@validate(
    json=OwnerSettingsUpdate,
    answers={200: OwnerSettingsOut},
    tags=TAGS,
    operation_id="ownership_update_settings",
    permission=MANAGE_SETTINGS.name,
)
def update_settings(object_type: str):
    row = settings.update_settings(object_type, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return OwnerSettingsOut.model_validate(row)


def _options() -> OptionsOut:
    return OptionsOut(roles=settings.owner_roles(), show_departed=show_departed_users())


@validate(answers={200: OptionsOut}, tags=TAGS, operation_id="ownership_get_options")
def get_options():
    return _options()


@validate(
    json=OptionsUpdate,
    answers={200: OptionsOut},
    tags=TAGS,
    operation_id="ownership_update_options",
    permission=MANAGE_SETTINGS.name,
)
def update_options():
    body = request_body()
    settings.update_options(body.roles, body.show_departed)
    db.session.commit()
    return _options()


@validate(query=AssignmentQuery, answers={200: AssignmentPage}, tags=TAGS, operation_id="ownership_list_assignments")
def list_assignments():
    query = request_query()
    statement = reports.list_assignments(query.object_type, query.object_id, query.user_id, query.at, query.kind)
    return paginate(statement, query, AssignmentOut, AssignmentPage)


@validate(json=AssignmentCreate, answers={201: AssignmentCounts}, tags=TAGS, operation_id="ownership_assign")
def create_assignments():
    body = request_body()
    request = assignments.AssignmentRequest(
        object_type=body.object_type,
        user_id=body.user_id,
        kind=body.kind,
        role=body.role,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        access=body.access,
        on_overlap=body.on_overlap,
        object_ids=body.object_ids,
        filter=body.filter,
    )
    counts = assignments.assign_owners(request, current_api_user())
    db.session.commit()
    return AssignmentCounts(
        object_type=body.object_type,
        matched=counts.matched,
        created=counts.created,
        skipped=counts.skipped,
        replaced=counts.replaced,
        unchanged=counts.unchanged,
    ), 201


@validate(answers={200: AssignmentOut}, tags=TAGS, operation_id="ownership_get_assignment")
def get_assignment(assignment_id: int):
    return AssignmentOut.model_validate(lookups.get_assignment(assignment_id))


@validate(json=AssignmentUpdate, answers={200: AssignmentOut}, tags=TAGS, operation_id="ownership_update_assignment")
def update_assignment(assignment_id: int):
    assignment = lookups.get_assignment(assignment_id)
    assignments.change_assignment(assignment, request_body().model_dump(exclude_unset=True), current_api_user())
    db.session.commit()
    return AssignmentOut.model_validate(assignment)


@validate(answers={204: None}, tags=TAGS, operation_id="ownership_delete_assignment")
def delete_assignment(assignment_id: int):
    assignments.remove_assignment(lookups.get_assignment(assignment_id), current_api_user())
    db.session.commit()
    return "", 204


@validate(query=OwnerQuery, answers={200: OwnerOut}, tags=TAGS, operation_id="ownership_owner_on")
def owner_on():
    query = request_query()
    record_type = lookups.record_type_named(query.object_type)
    day = query.at or periods.today()
    owners = reports.owners_on(record_type, query.object_id, day)
    primary = AssignmentOut.model_validate(owners.primary) if owners.primary else None
    return OwnerOut(
        object_type=record_type.name,
        object_id=query.object_id,
        at=day,
        owner_id=owners.primary.user_id if owners.primary else None,
        primary=primary,
        deputies=[AssignmentOut.model_validate(row) for row in owners.deputies],
    )


@validate(query=PortfolioQuery, answers={200: PortfolioPage}, tags=TAGS, operation_id="ownership_portfolio")
def portfolio():
    return portfolio_page(request_query())


def portfolio_page(query: PortfolioQuery) -> BaseModel:
    """The answer of ``GET /portfolio`` (bench/ownership.py times this very function)."""
    first_day = query.from_ or periods.today()
    last_day = query.to or first_day
    result = reports.portfolio(
        query.user_id, first_day, last_day, query.kind, query.object_type, page=query.page, per_page=query.per_page
    )
    user_name = result.user.display_name
    items = [PortfolioItem.model_validate({**row._mapping, "user_name": user_name}) for row in result.items]
    return page_answer(PortfolioPage, items, result.total, query)


def build_blueprint() -> Blueprint:
    # the template folder holds the admin pages of admin.py (Flask searches blueprints' folders)
    blueprint = Blueprint("api_ownership", __name__, url_prefix="/api/v1/ownership")
    blueprint.add_url_rule("/settings", "list_settings", list_settings, methods=["GET"])
    blueprint.add_url_rule(
        "/settings/<string(maxlength=50):object_type>", "get_settings", get_settings, methods=["GET"]
    )
    blueprint.add_url_rule(
        "/settings/<string(maxlength=50):object_type>", "update_settings", update_settings, methods=["PATCH"]
    )
    blueprint.add_url_rule("/options", "get_options", get_options, methods=["GET"])
    blueprint.add_url_rule("/options", "update_options", update_options, methods=["PATCH"])
    blueprint.add_url_rule("/assignments", "list_assignments", list_assignments, methods=["GET"])
    blueprint.add_url_rule("/assignments", "create_assignments", create_assignments, methods=["POST"])
    blueprint.add_url_rule("/assignments/<int:assignment_id>", "get_assignment", get_assignment, methods=["GET"])
    blueprint.add_url_rule(
        "/assignments/<int:assignment_id>", "update_assignment", update_assignment, methods=["PATCH"]
    )
    blueprint.add_url_rule(
        "/assignments/<int:assignment_id>", "delete_assignment", delete_assignment, methods=["DELETE"]
    )
    blueprint.add_url_rule("/owner", "owner_on", owner_on, methods=["GET"])
    blueprint.add_url_rule("/portfolio", "portfolio", portfolio, methods=["GET"])
    return blueprint
