"""Offboarding in the admin panel: the departed users with what they still have, one
user's page (the preview and the form that starts a transfer — to one user, or split per
record type and across a team), the list of transfers, a transfer's page (progress that
updates by itself, counts, resume, undo and what undo kept), and "Transfer to…" on every
record list for records of departed owners.

Views stay thin: planning, starting, resuming and undoing go through
:mod:`opiekun.plugins.offboarding.services`, the same rules as the API. Every page needs
the permission ``offboarding.transfer`` (administrators hold it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, RadioField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from opiekun.admin.actions import BulkAction, RecordSelection
from opiekun.admin.filters import OwnerIsFilter, with_live_options
from opiekun.admin.forms import AdminForm, active_users
from opiekun.admin.labels import FIELD_LABELS, user_label
from opiekun.admin.views import OpiekunModelView, RecordView, attempt
from opiekun.api.errors import NotFound
from opiekun.api.pagination import fetch
from opiekun.extensions import db
from opiekun.models import User
from opiekun.plugins.offboarding import services
from opiekun.plugins.offboarding.api import TransferOut
from opiekun.plugins.offboarding.models import STATUSES, Transfer
from opiekun.plugins.offboarding.permissions import TRANSFER
from opiekun.record_types import RecordType, record_types

OFFBOARDING_CATEGORY = _l("Offboarding")
#: Rows of the moved (or, after undo, kept) items on a transfer's page.
ITEMS_PER_PAGE = 25
#: Team rows the transfer form shows at first ("Add a team member" adds more).
TEAM_ROWS = 3
#: As many split parts as the API accepts.
MAX_TEAM = 100

STATUS_LABELS = {"queued": _l("queued"), "running": _l("running"), "done": _l("done"), "failed": _l("failed"),
                 "undone": _l("undone")}
STATUS_STYLES = {"queued": "secondary", "running": "info", "done": "success", "failed": "danger", "undone": "dark"}
ORIGIN_LABELS = {"offboarding": _l("offboarding page"), "list": _l("record list")}
KIND_LABELS = {"owner": _l("owner"), "responsible": _l("responsible"), "deputy": _l("deputy"),
               "planned_owner": _l("owner from a later date"), "promoted_deputy": _l("deputy promoted to owner")}
#: The transfer's switches, as the form and the transfer's page name them.
OPTION_LABELS = {"include_closed": _l("Closed items too"), "promote_deputies": _l("Promote deputies"),
                 "deputies_stay": _l("Deputies stay"), "follow_company": _l("Records follow their company"),
                 "allow_active": _l("Allow an active user")}
#: Kinds held through the record's ``owner_id``: the record list filtered by owner shows them.
OWNED_KINDS = frozenset({"owner", "responsible"})
OUTCOME_LABELS = {"restored": _l("put back"), "deleted": _l("deleted since"),
                  "reassigned": _l("given to someone else since"), "changed": _l("changed since")}
LABELS = {
    **FIELD_LABELS,
    "from_user": _l("User"), "from_user_id": _l("User"), "to_user_id": _l("Recipient"), "requested_by": _l("Started by"),
    "object_types": _l("Record types"), "split": _l("Split"), "selection": _l("Selection"), "origin": _l("Started from"),
    "progress": _l("Moved"), "finished_at": _l("Finished"), "holdings": _l("Still has"), "review": "",
    "owner_id": _l("Owner"),
}


def viewer() -> User:
    return current_user._get_current_object()


def label_of(labels: dict, value: str | None) -> str:
    return str(labels.get(value, value or ""))


def choices_of(labels: dict) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in labels.items()]


def type_label(name: str) -> str:
    """A record type's plural label in the user's language (its name if it is gone)."""
    record_type = record_types().get(name)
    return gettext(record_type.label_plural) if record_type is not None else name


def in_registry_order(per_type: dict[Any, Any], type_of: Callable[[Any], str] = lambda key: key) -> dict[Any, Any]:
    """``{object_type: …}`` (or keys whose ``type_of`` is the type) in the order of the record
    types, types now gone last."""
    order = {record_type.name: position for position, record_type in enumerate(record_types())}
    return dict(sorted(per_type.items(), key=lambda pair: order.get(type_of(pair[0]), len(order))))


def user_labels(ids: Iterable[int | None]) -> dict[int, str]:
    """Users by id, as shown next to records ("departed: name (email)")."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {user.id: user_label(user) for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def found(load, *args: Any) -> Any:
    """``load(*args)``, or the 404 page when it finds nothing."""
    try:
        return load(*args)
    except NotFound:
        abort(404)


def page_arg() -> int:
    """The page (0-based) of ``?page=`` (1-based, as the pager writes it)."""
    page = request.args.get("page", "1")
    return int(page) - 1 if page.isdigit() and 0 < int(page) < 1_000_000 else 0


def page_of(statement, page: int) -> tuple[list, int]:
    """One page of a statement's rows and the number of pages."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = fetch(statement.limit(ITEMS_PER_PAGE).offset(page * ITEMS_PER_PAGE))
    return rows, max(1, -(-total // ITEMS_PER_PAGE))


def record_url(object_type: str, object_id: int) -> str | None:
    """The record's admin page (``None`` when its type is gone with its plugin)."""
    record_type = record_types().get(object_type)
    return record_type.admin_url(object_id) if record_type is not None else None


def user_page_url(user_id: int) -> str:
    return url_for("offboarding.user_page", user_id=user_id)


def transfer_url(transfer_id: int) -> str:
    return url_for("offboarding_transfers.transfer_page", transfer_id=transfer_id)


# --- the transfer form ------------------------------------------------------------------------


def optional_id(value: Any) -> int | None:
    """A select's user id; the empty choice is ``None``."""
    return None if value in (None, "", "None") else int(value)


def recipient_choices() -> list[tuple[str, str]]:
    return [("", gettext("— choose —"))] + [(str(user.id), user_label(user)) for user in active_users()]


def given_to_choices() -> list[tuple[str, str]]:
    return [("", gettext("— shared across the team —"))] + recipient_choices()[1:]


class TeamMemberForm(Form):
    """One member of the team sharing the types nobody gets whole, with a weight."""

    user = SelectField(_l("Team member"), coerce=optional_id, choices=recipient_choices, validate_choice=False)
    share = IntegerField(_l("Weight"), default=1, validators=[Optional(), NumberRange(min=1, max=1000)])


class TransferForm(AdminForm):
    """What a transfer moves and to whom; :func:`transfer_form` adds the record types."""

    mode = RadioField(_l("Give"), default="one", choices=[
        ("one", _l("everything chosen to one user")),
        ("split", _l("split: record types to different users and/or evenly across a team"))])
    to_user = SelectField(_l("Recipient"), coerce=optional_id, choices=recipient_choices, validate_choice=False)
    team = FieldList(FormField(TeamMemberForm), min_entries=TEAM_ROWS, max_entries=MAX_TEAM)
    include_closed = BooleanField(OPTION_LABELS["include_closed"], default=True,
                                  description=_l("Won and lost deals, paid invoices, done tasks… (recommended: a client "
                                                 "who comes back finds an owner)"))
    promote_deputies = BooleanField(OPTION_LABELS["promote_deputies"],
                                    description=_l("Records with a deputy in force go to that deputy instead"))
    deputies_stay = BooleanField(OPTION_LABELS["deputies_stay"], default=True,
                                 description=_l("Other users' deputy periods on the moved records go on"))
    follow_company = BooleanField(OPTION_LABELS["follow_company"],
                                  description=_l("Persons, leads, deals, offers and invoices go to whoever gets their "
                                                 "company"))
    allow_active = BooleanField(OPTION_LABELS["allow_active"],
                                description=_l("The user has not departed yet: move their items anyway"))


def transfer_form(types: list[RecordType]) -> type[TransferForm]:
    """The form for a user holding items of ``types``: per type, whether to move it and,
    when splitting, to whom (or shared across the team)."""
    fields = {}
    for record_type in types:
        label = _l(record_type.label_plural)
        fields[f"take_{record_type.name}"] = BooleanField(label, default=True)
        fields[f"to_{record_type.name}"] = SelectField(label, coerce=optional_id, choices=given_to_choices,
                                                       validate_choice=False)
    return type("UserTransferForm", (TransferForm,), fields)


def part_labels(index: int, label: str) -> dict[str, str]:
    """How the form names the fields of the API's ``split.<index>`` in a refusal."""
    return {f"split.{index}{suffix}": label for suffix in ("", ".user_id", ".object_types", ".share")}


def split_parts(form: TransferForm, chosen: list[str]) -> tuple[list[services.SplitPart], dict[str, str]]:
    """Types given whole (grouped by user), then the team's shares; with their labels."""
    given: dict[int, list[str]] = {}
    for name in chosen:
        user_id = form[f"to_{name}"].data
        if user_id is not None:
            given.setdefault(user_id, []).append(name)
    parts, labels = [], {}
    for user_id, names in given.items():
        labels.update(part_labels(len(parts), gettext("Recipient of %(types)s", types=", ".join(map(type_label, names)))))
        parts.append(services.SplitPart(user_id, object_types=tuple(names)))
    for number, member in enumerate(form.team, 1):
        if member.user.data is not None:
            labels.update(part_labels(len(parts), gettext("Team member %(number)d", number=number)))
            parts.append(services.SplitPart(member.user.data, share=member.share.data or 1))
    return parts, labels


def transfer_plan(form: TransferForm, user: User, types: list[RecordType]) -> tuple[services.TransferPlan, dict[str, str]]:
    """The form as the services' plan, and the labels naming its fields in a refusal."""
    chosen = [record_type.name for record_type in types if form[f"take_{record_type.name}"].data]
    common = {"from_user_id": user.id, "object_types": tuple(chosen), "include_closed": form.include_closed.data,
              "promote_deputies": form.promote_deputies.data, "deputies_stay": form.deputies_stay.data,
              "follow_company": form.follow_company.data, "allow_active": form.allow_active.data}
    if form.mode.data == "one":
        return services.TransferPlan(to_user_id=form.to_user.data, **common), {}
    parts, labels = split_parts(form, chosen)
    return services.TransferPlan(split=tuple(parts), **common), labels


# --- departed users and one user's page -------------------------------------------------------


def type_totals(preview: services.Preview) -> dict[str, int]:
    """Items per record type, every kind counted."""
    totals: dict[str, int] = {}
    for item in preview.items:
        totals[item.object_type] = totals.get(item.object_type, 0) + item.total
    return totals


def holdings(user_id: int) -> list[tuple[str, int]]:
    """What the user still has: items per record type, in the registry's order."""
    totals = type_totals(services.preview(user_id))
    return [(type_label(record_type.name), totals[record_type.name]) for record_type in record_types()
            if record_type.name in totals]


def holdings_formatter(view, context, model: User, name: str) -> Markup:
    held = holdings(model.id)
    if not held:
        return Markup('<span class="text-muted">{}</span>').format(gettext("nothing left"))
    listing = Markup(", ").join(Markup("{}: <strong>{}</strong>").format(label, count) for label, count in held)
    return Markup("{} ({})").format(listing, gettext("%(count)d in all", count=sum(count for _, count in held)))


def user_page_formatter(view, context, model: User, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(user_page_url(model.id), model.name)


def review_formatter(view, context, model: User, name: str) -> Markup:
    return Markup('<a class="btn btn-sm btn-primary" href="{}">{}</a>').format(
        user_page_url(model.id), gettext("Review and reassign everything"))


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

    def __init__(self):
        super().__init__(User, db, name=_l("Departed users"), category=OFFBOARDING_CATEGORY, endpoint="offboarding",
                         url="/admin/offboarding")

    def departed_only(self, query):
        return query.filter(User.status == "departed")

    def get_query(self):
        return self.departed_only(super().get_query())

    def get_count_query(self):
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
        user = found(services.get_user, user_id)
        include_closed = request.args.get("include_closed", "1") != "0"
        everything = services.preview(user.id)
        shown = everything if include_closed else services.preview(user.id, include_closed=False)
        totals = type_totals(everything)
        types = [record_type for record_type in record_types() if record_type.name in totals]
        form = transfer_form(types)(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            plan, labels = transfer_plan(form, user, types)
            succeeded, transfer = attempt(lambda: services.start_transfer(plan, viewer()), {**LABELS, **labels})
            if succeeded:
                flash(gettext("Transfer started."), "success")
                return redirect(transfer_url(transfer.id))
        return self.render("offboarding/user.html", user=user, preview=shown, include_closed=include_closed,
                           rows=self.preview_rows(shown), types=types, totals=totals, form=form,
                           under_way=services.transfer_under_way(user.id), transfers=self.recent_transfers(user.id),
                           status_badge=status_badge,
                           transfers_url=self.transfers_view().user_url(user.id))

    def preview_rows(self, preview: services.Preview) -> list[dict[str, Any]]:
        """The preview's rows as the table shows them, linked to the record list."""
        lists = {view.record_type.name: view for view in self.admin._views if isinstance(view, RecordView)}
        return [{"type": gettext(item.label), "kind": label_of(KIND_LABELS, item.kind), "open": item.open,
                 "closed": item.closed, "total": item.total,
                 "url": lists[item.object_type].owner_list_url(preview.user.id)
                 if item.kind in OWNED_KINDS and item.object_type in lists else None}
                for item in preview.items]

    @staticmethod
    def recent_transfers(user_id: int) -> list[Transfer]:
        return db.session.scalars(services.list_transfers(from_user_id=user_id).limit(5)).all()

    def transfers_view(self) -> TransferView:
        return next(view for view in self.admin._views if isinstance(view, TransferView))


# --- transfers --------------------------------------------------------------------------------


def switched_on(transfer: Transfer) -> list[str]:
    """The options the transfer was started with."""
    options = {**(transfer.options or {}), "include_closed": transfer.include_closed}
    return [str(label) for name, label in OPTION_LABELS.items() if options.get(name)]


def status_badge(status: str) -> Markup:
    return Markup('<span class="badge badge-{}">{}</span>').format(STATUS_STYLES.get(status, "light"),
                                                                    label_of(STATUS_LABELS, status))


def transfer_link_formatter(view, context, model: Transfer, name: str) -> Markup:
    return Markup('<a href="{}">#{}</a>').format(transfer_url(model.id), model.id)


def from_user_formatter(view, context, model: Transfer, name: str) -> Markup:
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
    column_list = ("id", "from_user", "status", "origin", "object_types", "progress", "requested_by", "created_at",
                   "finished_at")
    column_labels = LABELS
    column_sortable_list = ("id", "status", "created_at", "finished_at")
    column_default_sort = ("id", True)
    column_formatters = TRANSFER_FORMATTERS
    form_columns = ("status",)

    def __init__(self):
        self.column_filters = [
            OwnerIsFilter(Transfer.from_user_id, _l("User")),
            with_live_options(FilterEqual(Transfer.status, _l("Status")), lambda: choices_of(STATUS_LABELS)),
            with_live_options(FilterEqual(Transfer.origin, _l("Started from")), lambda: choices_of(ORIGIN_LABELS)),
        ]
        super().__init__(Transfer, db, name=_l("Transfers"), category=OFFBOARDING_CATEGORY,
                         endpoint="offboarding_transfers", url="/admin/offboarding/transfers")

    def user_url(self, user_id: int) -> str:
        """The list filtered to the transfers of one user."""
        for index, list_filter in enumerate(self._filters or ()):
            if isinstance(list_filter, OwnerIsFilter):
                return self.get_url(".index_view", **{f"flt0_{self.get_filter_arg(index, list_filter)}": user_id})
        return self.get_url(".index_view")

    @expose("/<int:transfer_id>/")
    def transfer_page(self, transfer_id: int):
        """Progress (the page polls :meth:`transfer_state` while it runs), who gets what,
        resume and undo, and the moved items — after undo, those kept and why."""
        transfer = found(services.get_transfer, transfer_id)
        undone = transfer.status == "undone"
        page = page_arg()
        items, pages = page_of(services.moved_items(transfer.id, kept_only=undone), page)
        steps = transfer.steps
        names = user_labels([transfer.requested_by_id, transfer.undone_by_id, *(step.to_user_id for step in steps),
                             *(item.old_value for item in items), *(item.new_value for item in items)])
        return self.render(
            "offboarding/transfer.html", transfer=transfer, names=names, steps=steps, items=items, page=page,
            pages=pages, undone=undone, counts=services.counts_by_type(transfer),
            outcomes=in_registry_order(services.outcome_counts(transfer.id), lambda key: key[0]) if undone else {},
            resumable=services.is_resumable(transfer), undoable=transfer.status in ("done", "failed"),
            state_url=url_for(".transfer_state", transfer_id=transfer.id), user_url=user_page_url(transfer.from_user_id),
            status_labels={status: label_of(STATUS_LABELS, status) for status in STATUSES}, kind_labels=KIND_LABELS,
            outcome_labels=OUTCOME_LABELS, what_labels={**LABELS, **KIND_LABELS},
            origin_labels=ORIGIN_LABELS, type_label=type_label,
            record_url=record_url, status_badge=status_badge, options=switched_on(transfer),
            page_url=lambda number: url_for(".transfer_page", transfer_id=transfer.id, page=number + 1))

    @expose("/<int:transfer_id>/state.json")
    def transfer_state(self, transfer_id: int):
        """The transfer as ``GET /api/v1/offboarding/transfers/<id>`` answers, for the page's
        progress bar (the API takes bearer tokens, the panel its login session)."""
        return jsonify(TransferOut.of(found(services.get_transfer, transfer_id)).model_dump(mode="json"))

    @expose("/<int:transfer_id>/resume/", methods=("POST",))
    def resume(self, transfer_id: int):
        """Run the steps not yet done of a failed or stale transfer again."""
        found(services.get_transfer, transfer_id)
        succeeded, _ = attempt(lambda: services.resume_transfer(transfer_id, viewer()), LABELS)
        if succeeded:
            flash(gettext("The transfer goes on with the steps not yet done."), "success")
        return redirect(transfer_url(transfer_id))

    @expose("/<int:transfer_id>/undo/", methods=("POST",))
    def undo(self, transfer_id: int):
        """Put the moved items back (those changed since stay, listed on the page)."""
        found(services.get_transfer, transfer_id)
        succeeded, result = attempt(lambda: services.undo_transfer(transfer_id, viewer()), LABELS)
        if succeeded:
            flash(ngettext("Undone: %(num)d item put back, %(kept)d kept (listed below).",
                           "Undone: %(num)d items put back, %(kept)d kept (listed below).",
                           result.restored, kept=result.kept), "success")
        return redirect(transfer_url(transfer_id))


def admin_views(admin: Admin) -> list[BaseView]:
    """The plugin's views (its page templates are found through the API blueprint's
    ``template_folder``, as in the other plugins)."""
    return [DepartedUsersView(), TransferView()]


# --- the section on a user's page --------------------------------------------------------------


def user_section(user: User) -> list[tuple[str, Markup]]:
    """HubSpot's "review and reassign everything": on a user's admin page, how many items
    they still have and the link to their offboarding page (for those who may transfer)."""
    from opiekun.permissions import has_permission

    if not has_permission(viewer(), TRANSFER.name):
        return []
    held = services.preview(user.id).total
    summary = ngettext("%(num)d item is still theirs.", "%(num)d items are still theirs.", held) if held \
        else gettext("Nothing is theirs any more.")
    link = Markup('<a class="btn btn-sm btn-outline-primary ml-2" href="{}">{}</a>').format(
        user_page_url(user.id), gettext("Review and reassign everything"))
    return [(gettext("Offboarding"), Markup("<p>{} {}</p>").format(summary, link))]


# --- "Transfer to…" on record lists -----------------------------------------------------------


def transfer_to_form() -> type:
    """The recipient of "Transfer to…": an active user."""

    class TransferToForm(AdminForm):
        user = QuerySelectField(_l("Transfer to"), query_factory=active_users, get_label=user_label,
                                validators=[DataRequired()],
                                description=_l("Only records of departed owners are transferred; filter the list by "
                                               "“Owner has departed”. Each owner's transfer can be undone in "
                                               "Offboarding → Transfers."))

    return TransferToForm


def transfer_to(record_type: RecordType, selection: RecordSelection, values: dict[str, Any]) -> str:
    """Give the selected records of departed owners to the chosen user (one undoable
    transfer per former owner)."""
    recipient = values["user"]
    transfers = services.transfer_selection(record_type, selection.condition, recipient.id, viewer())
    moved = sum(transfer.moved for transfer in transfers)
    return ngettext("%(num)d record transferred to %(name)s (%(owners)d former owner(s)).",
                    "%(num)d records transferred to %(name)s (%(owners)d former owner(s)).",
                    moved, name=recipient.name, owners=len(transfers))


def transfer_to_action(record_type: RecordType) -> BulkAction:
    return BulkAction("offboarding_transfer_to", _l("Transfer to…"), transfer_to, form=transfer_to_form,
                      whole_list=True, permission=TRANSFER.name)

