"""What the offboarding pages share: the labels of statuses, kinds, outcomes and options,
the texts that count items (in the user's language's plural forms), links between the
pages, the viewer, and reading a page's transfer or user (404 when there is none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import abort, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from opiekun.plugin import (
    FIELD_LABELS,
    NotFound,
    User,
    db,
    record_types,
    record_types_label,
    translated,
    user_label,
)
from opiekun.plugin import (
    page_of as statement_page,
)
from opiekun.plugin.admin import requested_page

OFFBOARDING_CATEGORY = _l("Offboarding")
#: Rows of the moved (or, after undo, kept) items on a transfer's page.
ITEMS_PER_PAGE = 25
STATUS_LABELS = {
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "undone": _l("undone"),
}
STATUS_STYLES = {"queued": "secondary", "running": "info", "done": "success", "failed": "danger", "undone": "dark"}
ORIGIN_LABELS = {"offboarding": _l("offboarding page"), "list": _l("record list")}
KIND_LABELS = {
    "owner": _l("owner"),
    "responsible": _l("responsible"),
    "deputy": _l("deputy"),
    "planned_owner": _l("owner from a later date"),
    "promoted_deputy": _l("deputy promoted to owner"),
}
#: Offboarding's own switches, as the form and the transfer's page name them (the
#: plugins' come from ``opiekun_transfer_options``: :func:`option_labels`).
OPTION_LABELS = {
    "include_closed": _l("Closed items too"),
    "follow_company": _l("Records follow their company"),
    "allow_active": _l("Allow an active user"),
}


def option_labels() -> dict[str, str]:
    """Every switch a transfer may have, offboarding's and the enabled plugins', by name."""
    from opiekun.plugins.offboarding.planning import declared_options

    return {**OPTION_LABELS, **{option.name: option.label for option in declared_options()}}


def switched_on_labels(options: Mapping[str, Any]) -> list[str]:
    """The labels of the switches that are on in ``options`` (by name), in the form's order."""
    return [str(label) for name, label in option_labels().items() if options.get(name)]


#: Kinds held through the record's ``owner_id``: the record list filtered by owner shows them.
OWNED_KINDS = frozenset({"owner", "responsible"})
OUTCOME_LABELS = {
    "restored": _l("put back"),
    "deleted": _l("deleted since"),
    "reassigned": _l("given to someone else since"),
    "changed": _l("changed since"),
}
LABELS = {
    **FIELD_LABELS,
    "from_user": _l("User"),
    "from_user_id": _l("User"),
    "to_user_id": _l("Recipient"),
    "requested_by": _l("Started by"),
    "object_types": _l("Record types"),
    "split": _l("Split"),
    "selection": _l("Selection"),
    "origin": _l("Started from"),
    "progress": _l("Moved"),
    "finished_at": _l("Finished"),
    "holdings": _l("Still has"),
    "review": "",
    "owner_id": _l("Owner"),
}


def viewer() -> User:
    """The logged-in user (the object itself, not the proxy)."""
    return current_user._get_current_object()


# --- counts, in the user's language's plural forms ("1 element", "2 elementy", "5 elementów")


def items_in_all(count: int) -> str:
    """How many items in all ("razem 22 elementy")."""
    return ngettext("%(num)d item in all", "%(num)d items in all", count)


def items_put_back(count: int) -> str:
    """What undo put back ("5 elementów wróciło na miejsce")."""
    return ngettext("%(num)d item put back", "%(num)d items put back", count)


def items_kept(count: int) -> str:
    """What undo kept as it was ("2 elementy pozostały bez zmian")."""
    return ngettext("%(num)d item kept as it was", "%(num)d items kept as they were", count)


def undone_text(restored: int, kept: int) -> str:
    """The flash after undo: how many items went back and how many stayed."""
    if not kept:
        return gettext("Undone: %(restored)s.", restored=items_put_back(restored))
    return gettext(
        "Undone: %(restored)s, %(kept)s (listed below).", restored=items_put_back(restored), kept=items_kept(kept)
    )


def label_of(labels: dict, value: str | None) -> str:
    """``value``'s label in ``labels`` (the value itself when it has none)."""
    return str(labels.get(value, value or ""))


def choices_of(labels: dict) -> list[tuple[str, str]]:
    """``labels`` as the choices of a select."""
    return [(value, str(label)) for value, label in labels.items()]


def type_label(name: str) -> str:
    """A record type's plural label in the user's language (its name if it is gone)."""
    return translated(record_types_label([name]))


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


def part_label(part: tuple[int, int] | None, follow_company: bool = False) -> str:
    """What a step gives of its record type: all of it, a part of a shared type ("1/3"),
    or the records of the companies the recipient gets."""
    if follow_company:
        return gettext("records of the companies they get")
    if part is None:
        return gettext("all")
    return "{}/{}".format(*part)


def status_badge(status: str) -> Markup:
    """A transfer's status as a coloured badge."""
    return Markup('<span class="badge badge-{}">{}</span>').format(
        STATUS_STYLES.get(status, "light"), label_of(STATUS_LABELS, status)
    )


def found(load, *args: Any) -> Any:
    """``load(*args)``, or the 404 page when it finds nothing."""
    try:
        return load(*args)
    except NotFound:
        abort(404)


def page_arg() -> int:
    """The page (0-based, as Flask-Admin's pager counts) of ``?page=`` (1-based)."""
    return requested_page() - 1


def page_of(statement, page: int) -> tuple[list, int]:
    """One page (0-based) of a statement's rows and the number of pages."""
    rows, total = statement_page(statement, page + 1, ITEMS_PER_PAGE)
    return rows, max(1, -(-total // ITEMS_PER_PAGE))


def record_url(object_type: str, object_id: int) -> str | None:
    """The record's admin page (``None`` when its type is gone with its plugin)."""
    record_type = record_types().get(object_type)
    return record_type.admin_url(object_id) if record_type is not None else None


def user_page_url(user_id: int) -> str:
    """The offboarding page of a user."""
    return url_for("offboarding.user_page", user_id=user_id)


def transfer_url(transfer_id: int) -> str:
    """The page of a transfer."""
    return url_for("offboarding_transfers.transfer_page", transfer_id=transfer_id)
