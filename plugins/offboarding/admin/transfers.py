"""Offboarding → Transfers: every transfer, by user and status, and a transfer's page with
its progress, resume and undo, and the moved items (after undo, those kept and why).
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from opiekun.plugin import db, user_label
from opiekun.plugin.admin import OpiekunModelView, OwnerIsFilter, attempt, with_live_options
from opiekun.plugins.offboarding import moves, running, transfers
from opiekun.plugins.offboarding.admin.common import (
    KIND_LABELS,
    LABELS,
    OFFBOARDING_CATEGORY,
    ORIGIN_LABELS,
    OUTCOME_LABELS,
    OWNED_KINDS,
    STATUS_LABELS,
    choices_of,
    found,
    in_registry_order,
    items_kept,
    items_put_back,
    label_of,
    page_arg,
    page_of,
    part_label,
    record_url,
    status_badge,
    switched_on_labels,
    transfer_url,
    type_label,
    undone_text,
    user_labels,
    user_page_url,
    viewer,
)
from opiekun.plugins.offboarding.models import STATUSES, Transfer
from opiekun.plugins.offboarding.permissions import TRANSFER
from opiekun.plugins.offboarding.schemas import TransferOut
from opiekun.plugins.offboarding.undo import undo_transfer


def switched_on(transfer: Transfer) -> list[str]:
    """The options the transfer was started with."""
    return switched_on_labels({**(transfer.options or {}), "include_closed": transfer.include_closed})


def what_label(counts: dict[str, dict[str, int]], object_type: str, field: str) -> str:
    """How a moved item was held, as the per-type counts name it: a record's ``owner_id`` is
    its owner, or the responsible user where the type's plugin counts it so (tasks); other
    items are their kind (``deputy``…) or the field's label."""
    if field == "owner_id":
        owned = [kind for kind in counts.get(object_type, {}) if kind in OWNED_KINDS]
        if len(owned) == 1:
            field = owned[0]
    return label_of({**LABELS, **KIND_LABELS}, field)


def transfer_link_formatter(view, context, model: Transfer, name: str) -> Markup:
    """``#id``, linked to the transfer's page."""
    return Markup('<a href="{}">#{}</a>').format(transfer_url(model.id), model.id)


def from_user_formatter(view, context, model: Transfer, name: str) -> Markup:
    """The departed user, linked to their offboarding page."""
    return Markup('<a href="{}">{}</a>').format(user_page_url(model.from_user_id), user_label(model.from_user))


TRANSFER_FORMATTERS = {
    "id": transfer_link_formatter,
    "from_user": from_user_formatter,
    "status": lambda view, context, model, name: status_badge(model.status),
    "origin": lambda view, context, model, name: label_of(ORIGIN_LABELS, model.origin),
    "object_types": lambda view, context, model, name: ", ".join(map(type_label, model.object_types or [])),
    "progress": lambda view, context, model, name: f"{model.moved} / {max(model.total, model.moved)}",
    "requested_by": lambda view, context, model, name: user_label(model.requested_by),
}


class TransferView(OpiekunModelView):
    """Offboarding → Transfers: every transfer, by user and status; a transfer's page with
    its progress, resume and undo."""

    required_permission = TRANSFER.name
    can_create = False
    can_edit = False
    can_delete = False
    column_display_actions = False
    column_list = (
        "id",
        "from_user",
        "status",
        "origin",
        "object_types",
        "progress",
        "requested_by",
        "created_at",
        "finished_at",
    )
    column_labels = LABELS
    column_sortable_list = ("id", "status", "created_at", "finished_at")
    column_default_sort = ("id", True)
    column_formatters = TRANSFER_FORMATTERS
    column_filters = (
        OwnerIsFilter(Transfer.from_user_id, _l("User")),
        with_live_options(FilterEqual(Transfer.status, _l("Status")), lambda: choices_of(STATUS_LABELS)),
        with_live_options(FilterEqual(Transfer.origin, _l("Started from")), lambda: choices_of(ORIGIN_LABELS)),
    )
    form_columns = ("status",)

    def __init__(self):
        super().__init__(
            Transfer,
            db,
            name=_l("Transfers"),
            category=OFFBOARDING_CATEGORY,
            endpoint="offboarding_transfers",
            url="/admin/offboarding/transfers",
        )

    def user_url(self, user_id: int) -> str:
        """The list filtered to the transfers of one user."""
        return self.filtered_url((OwnerIsFilter, user_id))

    @expose("/<int:transfer_id>/")
    def transfer_page(self, transfer_id: int):
        """Progress (the page polls :meth:`transfer_state` while it runs), who gets what,
        resume and undo, and the moved items — after undo, those kept and why."""
        transfer = found(transfers.get_transfer, transfer_id)
        undone = transfer.status == "undone"
        page = page_arg()
        items, pages = page_of(moves.moved_items(transfer.id, kept_only=undone), page)
        steps = transfer.steps
        names = user_labels(
            [
                transfer.requested_by_id,
                transfer.undone_by_id,
                *(step.to_user_id for step in steps),
                *(item.old_value for item in items),
                *(item.new_value for item in items),
            ]
        )
        counts = transfers.counts_by_type(transfer)
        return self.render(
            "offboarding/transfer.html",
            transfer=transfer,
            names=names,
            steps=steps,
            parts=transfers.split_parts(steps),
            part_label=part_label,
            items=items,
            page=page,
            pages=pages,
            undone=undone,
            counts=counts,
            outcomes=in_registry_order(moves.outcome_counts(transfer.id), lambda key: key[0]) if undone else {},
            resumable=running.is_resumable(transfer),
            undoable=transfer.status in ("done", "failed"),
            state_url=url_for(".transfer_state", transfer_id=transfer.id),
            user_url=user_page_url(transfer.from_user_id),
            status_labels={status: label_of(STATUS_LABELS, status) for status in STATUSES},
            kind_labels=KIND_LABELS,
            outcome_labels=OUTCOME_LABELS,
            what_label=lambda object_type, field: what_label(counts, object_type, field),
            origin_labels=ORIGIN_LABELS,
            type_label=type_label,
            record_url=record_url,
            status_badge=status_badge,
            options=switched_on(transfer),
            page_url=lambda number: url_for(".transfer_page", transfer_id=transfer.id, page=number + 1),
            items_put_back=items_put_back,
            items_kept=items_kept,
        )

    @expose("/<int:transfer_id>/state.json")
    def transfer_state(self, transfer_id: int):
        """The transfer as ``GET /api/v1/offboarding/transfers/<id>`` answers, for the page's
        progress bar (the API takes bearer tokens, the panel its login session)."""
        return jsonify(TransferOut.of(found(transfers.get_transfer, transfer_id)).model_dump(mode="json"))

    @expose("/<int:transfer_id>/resume/", methods=("POST",))
    def resume(self, transfer_id: int):
        """Run the steps not yet done of a failed or stale transfer again."""
        found(transfers.get_transfer, transfer_id)
        succeeded, _ = attempt(lambda: running.resume_transfer(transfer_id, viewer()), LABELS)
        if succeeded:
            flash(gettext("The transfer goes on with the steps not yet done."), "success")
        return redirect(transfer_url(transfer_id))

    @expose("/<int:transfer_id>/undo/", methods=("POST",))
    def undo(self, transfer_id: int):
        """Put the moved items back (those changed since stay, listed on the page)."""
        found(transfers.get_transfer, transfer_id)
        succeeded, result = attempt(lambda: undo_transfer(transfer_id, viewer()), LABELS)
        if succeeded:
            flash(undone_text(result.restored, result.kept), "success")
        return redirect(transfer_url(transfer_id))
