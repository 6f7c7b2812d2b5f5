""" "Transfer to…" on every record list: the records of departed owners among the selection
(or among every record matching the filter) given to one user, undoably.
"""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.validators import DataRequired

from opiekun.plugin import RecordType, user_label
from opiekun.plugin.admin import AdminForm, BulkAction, RecordSelection, active_users
from opiekun.plugins.offboarding.admin.common import viewer
from opiekun.plugins.offboarding.permissions import TRANSFER
from opiekun.plugins.offboarding.selection import OwnerRecords, selection_owners, transfer_selection


def transfer_to_form() -> type:
    """The recipient of "Transfer to…": an active user."""

    class TransferToForm(AdminForm):
        user = QuerySelectField(
            _l("Transfer to"),
            query_factory=active_users,
            get_label=user_label,
            allow_blank=True,  # chosen by the admin, not the first user in the list
            blank_text=gettext("— choose —"),
            validators=[DataRequired()],
            description=_l(
                "Only records of departed owners can be transferred (filter the list by "
                "“Owner has departed”). Each former owner's records make a transfer of their "
                "own, which can be undone in Offboarding → Transfers."
            ),
        )

    return TransferToForm


def named_records(held: OwnerRecords) -> str:
    """The first records of an owner by name, and how many more there are."""
    names = ", ".join(held.names)
    others = held.count - len(held.names)
    return (
        ngettext("%(names)s and %(num)d more", "%(names)s and %(num)d more", others, names=names) if others else names
    )


def transfer_to_summary(record_type: RecordType, selection: RecordSelection) -> Markup:
    """What "Transfer to…" will do to the selection: whose records, how many and which ones
    go to the chosen user; or why nothing will (records of active owners, none departed)."""
    owners = selection_owners(record_type, selection.condition)
    parts = []
    if owners.active:
        parts.append(
            Markup('<div class="alert alert-danger" id="summary-active">{}</div>').format(
                ngettext(
                    "%(num)d record belongs to an active user (%(names)s): only records of departed owners can "
                    "be transferred. Filter the list by “Owner has departed”; as it is, nothing will change.",
                    "%(num)d records belong to active users (%(names)s): only records of departed owners can "
                    "be transferred. Filter the list by “Owner has departed”; as it is, nothing will change.",
                    sum(held.count for held in owners.active),
                    names=", ".join(user_label(held.owner) for held in owners.active),
                )
            )
        )
    elif owners.departed:
        rows = Markup("").join(
            Markup("<li><strong>{}</strong>: {} — {}</li>").format(
                held.owner.name,
                ngettext("%(num)d record", "%(num)d records", held.count),
                named_records(held),
            )
            for held in owners.departed
        )
        parts.append(
            Markup('<p class="mb-1">{}</p><ul id="summary-owners">{}</ul>').format(
                ngettext(
                    "%(num)d record of a departed owner will go to the user chosen below:",
                    "%(num)d records of departed owners will go to the user chosen below:",
                    owners.to_transfer,
                ),
                rows,
            )
        )
    else:
        parts.append(
            Markup('<div class="alert alert-warning" id="summary-none">{}</div>').format(
                gettext("None of these records has a departed owner: there is nothing to transfer.")
            )
        )
    if owners.unowned:
        parts.append(
            Markup('<p class="text-muted" id="summary-unowned">{}</p>').format(
                ngettext(
                    "%(num)d record without an owner stays as it is.",
                    "%(num)d records without an owner stay as they are.",
                    owners.unowned,
                )
            )
        )
    return Markup("").join(parts)


def records_transferred(moved: int, name: str, owners: int) -> str:
    """What "Transfer to…" did: how many records went to whom, from how many former owners
    ("22 rekordy przekazano do: Marta Manager (od 5 byłych opiekunów).")."""
    return ngettext(
        "%(num)d record transferred to %(name)s (%(owners)s).",
        "%(num)d records transferred to %(name)s (%(owners)s).",
        moved,
        name=name,
        owners=ngettext("from %(num)d former owner", "from %(num)d former owners", owners),
    )


def transfer_to(record_type: RecordType, selection: RecordSelection, values: dict[str, Any]) -> str:
    """Give the selected records of departed owners to the chosen user (one undoable
    transfer per former owner)."""
    recipient = values["user"]
    transfers = transfer_selection(record_type, selection.condition, recipient.id, viewer())
    return records_transferred(sum(transfer.moved for transfer in transfers), recipient.name, len(transfers))


def transfer_to_action(record_type: RecordType) -> BulkAction:
    """ "Transfer to…" for the list of ``record_type`` (whole filtered list too)."""
    return BulkAction(
        "offboarding_transfer_to",
        _l("Transfer to…"),
        transfer_to,
        form=transfer_to_form,
        whole_list=True,
        permission=TRANSFER.name,
        summary=transfer_to_summary,
    )
