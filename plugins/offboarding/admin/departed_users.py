"""Offboarding → Departed users: who left and what they still have; one user's page with
the preview and the form starting a transfer; and the section on a user's admin page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from opiekun.plugin import User, db, has_permission, record_types, user_label
from opiekun.plugin.admin import OpiekunModelView, RecordView, attempt, panel_views
from opiekun.plugins.offboarding import planning, preview, running, transfers
from opiekun.plugins.offboarding.admin.common import (
    KIND_LABELS,
    LABELS,
    OFFBOARDING_CATEGORY,
    OWNED_KINDS,
    found,
    items_in_all,
    label_of,
    status_badge,
    transfer_url,
    type_label,
    user_page_url,
    viewer,
)
from opiekun.plugins.offboarding.admin.transfer_form import TransferSummary, transfer_form, transfer_plan
from opiekun.plugins.offboarding.models import Transfer
from opiekun.plugins.offboarding.permissions import TRANSFER

if TYPE_CHECKING:
    from opiekun.plugins.offboarding.admin.transfers import TransferView


def type_totals(user_preview: preview.Preview) -> dict[str, int]:
    """Items per record type, every kind counted."""
    totals: dict[str, int] = {}
    for item in user_preview.items:
        totals[item.object_type] = totals.get(item.object_type, 0) + item.total
    return totals


def holdings(user_id: int) -> list[tuple[str, int]]:
    """What the user still has: items per record type, in the registry's order."""
    totals = type_totals(preview.preview(user_id))
    return [
        (type_label(record_type.name), totals[record_type.name])
        for record_type in record_types()
        if record_type.name in totals
    ]


def holdings_formatter(view, context, model: User, name: str) -> Markup:
    """The list's "Still has" column: items per record type and in all."""
    held = holdings(model.id)
    if not held:
        return Markup('<span class="text-muted">{}</span>').format(gettext("nothing left"))
    listing = Markup(", ").join(Markup("{}: <strong>{}</strong>").format(label, count) for label, count in held)
    return Markup("{} ({})").format(listing, items_in_all(sum(count for _, count in held)))


def user_page_formatter(view, context, model: User, name: str) -> Markup:
    """The user's name, linked to their offboarding page."""
    return Markup('<a href="{}">{}</a>').format(user_page_url(model.id), model.name)


def review_formatter(view, context, model: User, name: str) -> Markup:
    """The "Review and reassign everything" button of a row."""
    return Markup('<a class="btn btn-sm btn-primary" href="{}">{}</a>').format(
        user_page_url(model.id), gettext("Review and reassign everything")
    )


class DepartedUsersView(OpiekunModelView):
    """Offboarding → Departed users: who left, what they still have, and the page of any
    user (HubSpot's "review and reassign everything")."""

    required_permission = TRANSFER.name
    can_create = False
    can_edit = False
    can_delete = False
    column_display_actions = False
    page_size = 20
    column_list = ("name", "email", "departed_at", "holdings", "review")
    column_labels = LABELS
    column_searchable_list = ("name", "email")
    column_sortable_list = ("name", "email", "departed_at")
    column_default_sort = ("departed_at", True)
    column_formatters = {"name": user_page_formatter, "holdings": holdings_formatter, "review": review_formatter}
    form_columns = ("name",)
    list_template = "offboarding/departed_users.html"

    def __init__(self, transfer_list: TransferView):
        #: Offboarding → Transfers, whose list a user's page links to (filtered to them).
        self.transfer_list = transfer_list
        super().__init__(
            User,
            db,
            name=_l("Departed users"),
            category=OFFBOARDING_CATEGORY,
            endpoint="offboarding",
            url="/admin/offboarding",
        )

    def departed_only(self, query):
        """``query`` limited to departed users."""
        return query.filter(User.status == "departed")

    def get_query(self):
        """The list's rows: departed users only."""
        return self.departed_only(super().get_query())

    def get_count_query(self):
        """The list's count: departed users only."""
        return self.departed_only(super().get_count_query())

    @staticmethod
    def everyone() -> list[tuple[int, str]]:
        """Every user, active ones first, for "Open the page of a user"."""
        users = db.session.scalars(select(User).order_by(User.status, User.name, User.id))
        return [(user.id, user_label(user)) for user in users]

    @expose("/open/")
    def open_user(self):
        """The user picked in "Open the page of a user"."""
        user_id = request.args.get("user_id", type=int)
        return redirect(user_page_url(user_id) if user_id else self.get_url(".index_view"))

    @expose("/user/<int:user_id>/", methods=("GET", "POST"))
    def user_page(self, user_id: int):
        """The preview of what the user has and the form starting a transfer."""
        user = found(preview.get_user, user_id)
        include_closed = request.args.get("include_closed", "1") != "0"
        everything = preview.preview(user.id)
        shown = everything if include_closed else preview.preview(user.id, include_closed=False)
        totals = type_totals(everything)
        types = [record_type for record_type in record_types() if record_type.name in totals]
        form = transfer_form(types)(request.form if request.method == "POST" else None)
        summary = None
        if request.method == "POST" and form.validate():
            plan, labels = transfer_plan(form, user, types)
            labels = {**LABELS, **labels}
            succeeded, expected = attempt(lambda: planning.expected_transfer(plan), labels)
            if succeeded:
                summary = TransferSummary.of(expected, plan)
                confirmed = request.form.get("confirmed")
                if confirmed == summary.fingerprint:
                    succeeded, transfer = attempt(lambda: running.start_transfer(plan, viewer()), labels)
                    if succeeded:
                        flash(gettext("Transfer started."), "success")
                        return redirect(transfer_url(transfer.id))
                    summary = None
                elif confirmed:
                    flash(
                        gettext(
                            "The form or the items of %(name)s changed since the summary: check the new one and confirm again.",
                            name=user.name,
                        ),
                        "warning",
                    )
        return self.render(
            "offboarding/user.html",
            user=user,
            preview=shown,
            include_closed=include_closed,
            rows=self.preview_rows(shown),
            types=types,
            totals=totals,
            form=form,
            summary=summary,
            under_way=transfers.transfer_under_way(user.id),
            transfers=self.recent_transfers(user.id),
            status_badge=status_badge,
            transfers_url=self.transfer_list.user_url(user.id),
            items_in_all=items_in_all,
        )

    def preview_rows(self, user_preview: preview.Preview) -> list[dict[str, Any]]:
        """The preview's rows as the table shows them, linked to the record list."""
        lists = {view.record_type.name: view for view in panel_views() if isinstance(view, RecordView)}
        return [
            {
                "type": gettext(item.label),
                "kind": label_of(KIND_LABELS, item.kind),
                "open": item.open,
                "closed": item.closed,
                "total": item.total,
                "url": lists[item.object_type].owner_list_url(user_preview.user.id)
                if item.kind in OWNED_KINDS and item.object_type in lists
                else None,
            }
            for item in user_preview.items
        ]

    @staticmethod
    def recent_transfers(user_id: int) -> list[Transfer]:
        """The user's five latest transfers."""
        return db.session.scalars(transfers.list_transfers(from_user_id=user_id).limit(5)).all()


def user_section(user: User) -> list[tuple[str, Markup]]:
    """HubSpot's "review and reassign everything": on a user's admin page, how many items
    they still have and the link to their offboarding page (for those who may transfer)."""
    if not has_permission(viewer(), TRANSFER.name):
        return []
    held = preview.preview(user.id).total
    summary = (
        ngettext("%(num)d item is still theirs.", "%(num)d items are still theirs.", held)
        if held
        else gettext("Nothing is theirs any more.")
    )
    link = Markup('<a class="btn btn-sm btn-outline-primary ml-2" href="{}">{}</a>').format(
        user_page_url(user.id), gettext("Review and reassign everything")
    )
    return [(gettext("Offboarding"), Markup("<p>{} {}</p>").format(summary, link))]
