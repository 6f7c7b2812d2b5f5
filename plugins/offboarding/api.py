"""The offboarding plugin's JSON API (under ``/api/v1/offboarding``): the preview of a
user's items, transfers (start, state, resume, undo) and the items a transfer moved.

Every route is declared with ``opiekun.api.spec.validate``, so it is validated and listed
in ``/api/v1/openapi.json`` (its models are in :mod:`.schemas`); the rules live in
:mod:`.preview`, :mod:`.planning`, :mod:`.running`, :mod:`.moves` and :mod:`.undo`. Only
administrators and holders of ``offboarding.transfer`` may call them.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint
from flask_babel import force_locale

from opiekun.plugin import db, fetch
from opiekun.plugin.api import (
    PageQuery,
    current_api_user,
    page_of_list,
    paginate,
    request_body,
    request_query,
    validate,
)
from opiekun.plugins.offboarding import moves, planning, preview, running, transfers, undo
from opiekun.plugins.offboarding.permissions import TRANSFER
from opiekun.plugins.offboarding.schemas import (
    DepartedUserOut,
    ItemCountOut,
    MovedItemOut,
    MovedItemPage,
    MovedItemsQuery,
    PreviewOut,
    PreviewQuery,
    TransferBrief,
    TransferIn,
    TransferListQuery,
    TransferOptionOut,
    TransferOptionsOut,
    TransferOut,
    TransferPage,
    UndoOut,
)

#: Every route here needs ``offboarding.transfer`` (checked before the request's input) and
#: sits under "Offboarding" in the OpenAPI document.
offboarding_route = partial(validate, permission=TRANSFER.name, tags=["Offboarding"])


# --- preview ---------------------------------------------------------------------------------------


@offboarding_route(
    query=PreviewQuery,
    answers={200: PreviewOut},
    operation_id="preview_offboarding",
)
def get_preview(user_id: int):
    """What the user owns or is responsible for, per record type and kind, open and closed
    (every enabled plugin's items, partners' included). 404: no such user."""
    result = preview.preview(user_id, request_query().include_closed)
    under_way = transfers.transfer_under_way(user_id)
    return PreviewOut(
        user=DepartedUserOut.model_validate(result.user),
        include_closed=result.include_closed,
        items=[
            ItemCountOut(
                object_type=item.object_type,
                label=item.label,
                kind=item.kind,
                open=item.open,
                closed=item.closed,
                total=item.total,
            )
            for item in result.items
        ],
        total=result.total,
        transfer_under_way=under_way,
    )


@offboarding_route(
    query=PageQuery,
    answers={200: TransferOptionsOut},
    operation_id="list_transfer_options",
)
def list_transfer_options():
    """The switches the enabled plugins offer on a transfer (give them in ``options`` when
    starting one), with their labels (in English, as the whole API) and their defaults."""
    with force_locale("en"):
        options = [
            TransferOptionOut(
                name=option.name,
                label=str(option.label),
                description=str(option.description),
                default=option.default,
            )
            for option in planning.declared_options()
        ]
    return page_of_list(options, request_query(), TransferOptionsOut)


# --- transfers -------------------------------------------------------------------------------------


@offboarding_route(
    json=TransferIn,
    answers={202: TransferOut},
    operation_id="start_offboarding_transfer",
)
def start_transfer():
    """Plan a transfer and start it as a background job: to one user, or split per type
    and/or round-robin across a team. 422 names the problem (active or unknown user,
    departed recipient, the user themselves, a split that leaves types uncovered…); 409
    while another transfer of the same user is under way. Nothing is saved then."""
    user = current_api_user()
    transfer = running.start_transfer(request_body().plan(), user)
    db.session.commit()
    return TransferOut.of(transfer), 202


@offboarding_route(
    query=TransferListQuery,
    answers={200: TransferPage},
    operation_id="list_offboarding_transfers",
)
def list_transfers():
    """Transfers, newest first, by user and status."""
    query = request_query()
    return paginate(transfers.list_transfers(query.from_user_id, query.status), query, TransferBrief, TransferPage)


@offboarding_route(answers={200: TransferOut}, operation_id="get_offboarding_transfer")
def get_transfer(transfer_id: int):
    """Status (queued, running, done, failed, undone), progress (done/total) and counts per
    type of a transfer."""
    return TransferOut.of(transfers.get_transfer(transfer_id))


@offboarding_route(answers={202: TransferOut}, operation_id="resume_offboarding_transfer")
def resume_transfer(transfer_id: int):
    """Run a failed transfer again, or one whose worker died (no progress for
    ``OFFBOARDING_STALE_AFTER`` seconds): the steps not yet done run, each item moves once.
    409 for a transfer still running, done or undone."""
    user = current_api_user()
    transfer = running.resume_transfer(transfer_id, user)
    db.session.commit()
    return TransferOut.of(transfer), 202


@offboarding_route(answers={200: UndoOut}, operation_id="undo_offboarding_transfer")
def undo_transfer(transfer_id: int):
    """Put every moved item back to its former user, unless it changed since the transfer
    (those are kept, listed with the reason, never overwritten). 409: already undone, or
    still under way."""
    user = current_api_user()
    result = undo.undo_transfer(transfer_id, user)
    db.session.commit()
    kept = fetch(moves.moved_items(transfer_id, kept_only=True).limit(100))
    return UndoOut(
        transfer=TransferOut.of(transfers.get_transfer(transfer_id)),
        restored=result.restored,
        kept=result.kept,
        kept_items=[MovedItemOut.model_validate(item) for item in kept],
    )


@offboarding_route(
    query=MovedItemsQuery,
    answers={200: MovedItemPage},
    operation_id="list_offboarding_moved_items",
)
def list_moved_items(transfer_id: int):
    """Every item the transfer moved: record, field, former and new user, and (after undo)
    what happened to it."""
    transfers.get_transfer(transfer_id)
    query = request_query()
    statement = moves.moved_items(transfer_id, query.outcome, query.kept)
    return paginate(statement, query, MovedItemOut, MovedItemPage)


def build_blueprint() -> Blueprint:
    """The plugin's routes (its admin pages' templates are found by the core's convention)."""
    blueprint = Blueprint("api_offboarding", __name__, url_prefix="/api/v1/offboarding")
    blueprint.add_url_rule("/<int:user_id>/preview", "preview", get_preview, methods=["GET"])
    blueprint.add_url_rule("/options", "transfer_options", list_transfer_options, methods=["GET"])
    blueprint.add_url_rule("/transfers", "start_transfer", start_transfer, methods=["POST"])
    blueprint.add_url_rule("/transfers", "list_transfers", list_transfers, methods=["GET"])
    blueprint.add_url_rule("/transfers/<int:transfer_id>", "get_transfer", get_transfer, methods=["GET"])
    blueprint.add_url_rule("/transfers/<int:transfer_id>/resume", "resume_transfer", resume_transfer, methods=["POST"])
    blueprint.add_url_rule("/transfers/<int:transfer_id>/undo", "undo_transfer", undo_transfer, methods=["POST"])
    blueprint.add_url_rule("/transfers/<int:transfer_id>/items", "moved_items", list_moved_items, methods=["GET"])
    return blueprint
