"""Offboarding's panels of the start page, for the team: departed users who still own
records (one click to "review and reassign") and transfers under way or failed. Shown to
users who may transfer (``offboarding.transfer``) and see the team."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from opiekun.plugin import User, db, has_permission, record_types
from opiekun.plugin.admin import (
    SHOWN_ROWS,
    Figure,
    HomeLink,
    HomePanel,
    format_count,
    panel_views,
    records_per_owner,
    sees_team,
)
from opiekun.plugins.offboarding.admin.common import STATUS_LABELS, user_page_url
from opiekun.plugins.offboarding.admin.transfers import TransferView
from opiekun.plugins.offboarding.models import Transfer
from opiekun.plugins.offboarding.permissions import TRANSFER


def records_of_departed_owners() -> dict[int, int]:
    """``{departed user id: records they own}`` over every record type, tasks included —
    from the page's counts per owner (:func:`~opiekun.admin.home.records_per_owner`, which
    the load per owner reads too), so no record table is counted twice."""
    departed = set(db.session.scalars(select(User.id).where(User.status == "departed")))
    held: dict[int, int] = {}
    for record_type in record_types():
        for owner_id, count in records_per_owner(record_type.model).items():
            if owner_id in departed:
                held[owner_id] = held.get(owner_id, 0) + count
    return held


def departed_panel() -> HomePanel:
    """Departed users who still own records: how many, and the ones holding the most, each
    linked to their "review and reassign everything" page."""
    held = records_of_departed_owners()
    first = sorted(held, key=lambda user_id: (-held[user_id], user_id))[:SHOWN_ROWS]
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(first)))}
    return HomePanel(
        key="departed-with-records",
        title=gettext("Departed users who still own records"),
        figures=[Figure(gettext("Users"), len(held), url_for("offboarding.index_view"), "warning")],
        links=[
            HomeLink(
                gettext("%(name)s: review and reassign", name=users[user_id].name),
                user_page_url(user_id),
                ngettext("%(count)s record", "%(count)s records", held[user_id], count=format_count(held[user_id])),
                "warning",
            )
            for user_id in first
        ],
        empty=gettext("Nobody who left owns records."),
        team=True,
        order=140,
    )


def transfers_panel() -> HomePanel:
    """Transfers queued, running and failed, each linked to the list filtered by status."""
    transfer_list = next(view for view in panel_views() if isinstance(view, TransferView))
    counts = dict(db.session.execute(select(Transfer.status, func.count()).group_by(Transfer.status)).all())
    tones = {"queued": "default", "running": "warning", "failed": "danger"}
    return HomePanel(
        key="transfers",
        title=gettext("Transfers"),
        figures=[
            Figure(
                str(STATUS_LABELS[status]), counts.get(status, 0), transfer_list.filtered_url(("status", status)), tone
            )
            for status, tone in tones.items()
        ],
        empty=gettext("No transfer is under way and none failed."),
        more_url=transfer_list.list_url(),
        more_text=gettext("All transfers"),
        team=True,
        order=150,
    )


def home_panels(user: User) -> list[HomePanel]:
    """The plugin's panels, for whom sees the team and may transfer."""
    if not (sees_team(user) and has_permission(user, TRANSFER.name)):
        return []
    return [departed_panel(), transfers_panel()]
