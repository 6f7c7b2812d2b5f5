"""The start page of the panel: what needs the user's attention, and — for whom may see
the team (``dashboard.team``) — what needs the team's.

The page is made of :class:`HomePanel` s: the core gives "My records", "Notifications",
"Records without an owner" and "Records per owner"; plugins add theirs through the hook
``opiekun_admin_home_panels`` (tasks: my tasks, the team's overdue tasks, shares granted
to me; offboarding: departed users who still own records, transfers under way or failed).
A panel is data — figures, links, an optional chart — so plugins write no HTML, and every
number is a link to the filtered list it counts.

Every count is one indexed query (``owner_id`` and ``created_at`` are indexed on every
record table): no list is scanned to draw the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pygal
from flask import g
from flask_babel import gettext
from markupsafe import Markup
from pygal.style import Style
from sqlalchemy import func, select

from opiekun.extensions import db
from opiekun.models import Notification, User

#: Who sees the team's panels (admins hold every permission).
TEAM_PERMISSION = "dashboard.team"
#: How many rows a panel lists before "more".
SHOWN_ROWS = 5
#: How many owners the "Records per owner" chart draws (the most loaded ones).
CHARTED_OWNERS = 12


@dataclass(frozen=True)
class Figure:
    """One number of a panel, linked to the list it counts. ``tone``: ``default``,
    ``warning`` (needs attention) or ``danger`` (something went wrong)."""

    label: str
    count: int
    url: str | None = None
    tone: str = "default"


@dataclass(frozen=True)
class HomeLink:
    """One row of a panel's list: a text linked to where the user acts on it, and a detail
    shown beside it (a date, a count)."""

    text: str
    url: str | None = None
    detail: str = ""
    tone: str = "default"


@dataclass(frozen=True)
class HomePanel:
    """A box of the start page. ``team`` panels go under "Team" (show them only to whom
    may see the team); ``empty`` is said when the panel has no figure above zero and no
    row. ``chart`` is safe SVG markup (see :func:`bar_chart`)."""

    key: str
    title: str
    figures: Sequence[Figure] = ()
    links: Sequence[HomeLink] = ()
    chart: Markup | None = None
    empty: str = ""
    more_url: str | None = None
    more_text: str = ""
    team: bool = False
    order: int = 100
    table: Sequence[Sequence[Any]] = field(default_factory=tuple)
    table_header: Sequence[str] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing to show but the ``empty`` text."""
        return not self.links and not self.table and all(figure.count == 0 for figure in self.figures)


@dataclass(frozen=True)
class Bar:
    """One bar of a :func:`bar_chart`: a label, a value, where a click leads, and whether
    it is marked (drawn in the warning colour, e.g. a departed owner)."""

    label: str
    value: int
    url: str | None = None
    marked: bool = False


CHART_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#343a40",
    foreground_strong="#343a40",
    foreground_subtle="#6c757d",
    colors=("#007bff",),
    font_family="-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=11,
)


def bar_chart(title: str, bars: Sequence[Bar], colour: str = "#007bff", marked_colour: str = "#dc3545") -> Markup:
    """A horizontal bar chart as inline SVG, drawn on the server by pygal: no script, nothing
    fetched from elsewhere; each bar links to its ``url``."""
    chart = pygal.HorizontalBar(
        style=CHART_STYLE,
        show_legend=False,
        print_values=True,
        js=[],  # pygal's tooltips script would be fetched from the internet
        disable_xml_declaration=True,
        height=max(140, 28 * len(bars) + 50),
        width=1100,
        margin=8,
        truncate_label=40,
        explicit_size=False,
        title=None,
    )
    ordered = list(reversed(bars))  # pygal draws the first value at the bottom
    chart.x_labels = [bar.label for bar in ordered]
    chart.add(
        title,
        [
            {
                "value": bar.value,
                "color": marked_colour if bar.marked else colour,
                **({"xlink": {"href": bar.url, "target": "_self"}} if bar.url else {}),
            }
            for bar in ordered
        ],
    )
    return Markup(chart.render(is_unicode=True))


# --- the core's panels ----------------------------------------------------------------------


def record_lists() -> list[Any]:
    """The panel's record lists (views of record types), in the menu's order."""
    from opiekun.admin import panel_views
    from opiekun.admin.views import RecordView

    return [view for view in panel_views() if isinstance(view, RecordView)]


def owned_record_lists() -> list[Any]:
    """The lists of record types whose owner is the user's portfolio (not tasks, which have
    a responsible user and their own panels)."""
    return [view for view in record_lists() if view.record_type.owner_items]


def my_records_panel(user: User) -> HomePanel:
    """How many records of each type the user owns, each linked to the list of them."""
    figures = []
    for view in owned_record_lists():
        model = view.record_type.model
        mine = db.session.scalar(select(func.count()).select_from(model).where(model.owner_id == user.id))
        figures.append(Figure(str(view.name), mine, view.owner_list_url(user.id)))
    return HomePanel(
        key="my-records",
        title=gettext("My records"),
        figures=figures,
        empty=gettext("You own no records yet."),
        order=10,
    )


def notification_target(notification: Notification) -> str | None:
    """Where a notification is acted on: the record it is about, or the list of them."""
    from flask import url_for

    from opiekun.record_registry import record_types

    if notification.object_id is None:
        return None
    if notification.object_type == "user":
        return url_for("users.details_view", id=notification.object_id)
    record_type = record_types().get(notification.object_type or "")
    return record_type.admin_url(notification.object_id) if record_type is not None else None


def notifications_panel(user: User) -> HomePanel:
    """The user's unread notifications: how many, and the newest with links to act."""
    from flask import url_for

    unread = Notification.user_id == user.id, Notification.read_at.is_(None)
    count = db.session.scalar(select(func.count()).select_from(Notification).where(*unread))
    newest = db.session.scalars(
        select(Notification).where(*unread).order_by(Notification.id.desc()).limit(SHOWN_ROWS)
    ).all()
    unread_list = url_for("notifications.index_view", flt0_0="1")
    return HomePanel(
        key="notifications",
        title=gettext("Notifications"),
        figures=[Figure(gettext("Unread"), count, unread_list, "warning" if count else "default")],
        links=[
            HomeLink(
                notification.message,
                notification_target(notification) or url_for("notifications.details_view", id=notification.id),
                format_moment(notification.created_at),
            )
            for notification in newest
        ],
        empty=gettext("Nothing new."),
        more_url=unread_list if count > SHOWN_ROWS else None,
        more_text=gettext("All unread notifications"),
        order=30,
    )


def format_moment(moment: Any) -> str:
    """A point in time as the user reads it (their language's medium format)."""
    from flask_babel import format_datetime

    return format_datetime(moment, "short") if moment is not None else ""


def unowned_panel() -> HomePanel:
    """Records without an owner, per type, each linked to the list filtered to them."""
    from opiekun.admin.filters import YES, EmptyFilter

    figures = []
    for view in owned_record_lists():
        model = view.record_type.model
        count = db.session.scalar(select(func.count()).select_from(model).where(model.owner_id.is_(None)))
        figures.append(
            Figure(str(view.name), count, view.filtered_url((EmptyFilter, YES)), "warning" if count else "default")
        )
    return HomePanel(
        key="unowned",
        title=gettext("Records without an owner"),
        figures=figures,
        empty=gettext("Every record has an owner."),
        team=True,
        order=110,
    )


def records_per_owner(model: type) -> dict[int, int]:
    """``{owner id: records of model}``: one grouped query on the indexed ``owner_id``, run
    once per page whichever panels ask (the load per owner, departed owners' records)."""
    counted = g.setdefault("home_records_per_owner", {})
    if model not in counted:
        rows = db.session.execute(
            select(model.owner_id, func.count()).where(model.owner_id.is_not(None)).group_by(model.owner_id)
        )
        counted[model] = dict(rows.all())
    return counted[model]


def owner_load(views: Sequence[Any]) -> dict[int, dict[str, int]]:
    """``{owner id: {record type: count}}`` over ``views``' records."""
    load: dict[int, dict[str, int]] = {}
    for view in views:
        for owner_id, count in records_per_owner(view.record_type.model).items():
            load.setdefault(owner_id, {})[view.record_type.name] = count
    return load


def owner_load_panel() -> HomePanel:
    """The load of each seller: records per owner (the most loaded first), as a chart and a
    table whose numbers link to the owner's list of each type; departed owners marked."""
    from opiekun.labels import user_label

    views = owned_record_lists()
    load = owner_load(views)
    busiest = sorted(load, key=lambda owner_id: (-sum(load[owner_id].values()), owner_id))[:CHARTED_OWNERS]
    owners = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(busiest)))}
    first_list = views[0] if views else None
    bars = [
        Bar(
            user_label(owners[owner_id]),
            sum(load[owner_id].values()),
            first_list.owner_list_url(owner_id) if first_list else None,
            owners[owner_id].status == "departed",
        )
        for owner_id in busiest
    ]
    table = [
        [
            Markup("{}").format(user_label(owners[owner_id])),
            *(
                Markup('<a href="{}">{}</a>').format(view.owner_list_url(owner_id), format_count(count))
                if (count := load[owner_id].get(view.record_type.name, 0))
                else Markup('<span class="text-muted">0</span>')
                for view in views
            ),
            Markup("<strong>{}</strong>").format(format_count(sum(load[owner_id].values()))),
        ]
        for owner_id in busiest
    ]
    return HomePanel(
        key="owner-load",
        title=gettext("Records per owner"),
        chart=bar_chart(gettext("Records"), bars) if bars else None,
        table=table,
        table_header=[gettext("Owner"), *(str(view.name) for view in views), gettext("Total")],
        empty=gettext("No record has an owner yet."),
        team=True,
        order=120,
    )


def format_count(count: int) -> str:
    """A count in the user's number format (``12 345`` in Polish)."""
    from flask_babel import format_decimal

    return format_decimal(count)


def sees_team(user: User) -> bool:
    """Whether ``user`` sees the team's panels."""
    from opiekun.permissions import has_permission

    return has_permission(user, TEAM_PERMISSION)


def core_panels(user: User) -> list[HomePanel]:
    """The core's panels for ``user``."""
    panels = [my_records_panel(user), notifications_panel(user)]
    if sees_team(user):
        panels += [unowned_panel(), owner_load_panel()]
    return panels
