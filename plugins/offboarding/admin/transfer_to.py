""" "Transfer to…" on every record list: the records of departed owners among the selection
(or among every record matching the filter) given to one user, undoably.
"""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms.validators import DataRequired

from opiekun.admin.actions import BulkAction, RecordSelection
from opiekun.admin.forms import AdminForm, active_users
from opiekun.labels import user_label
from opiekun.plugins.offboarding.admin.common import viewer
from opiekun.plugins.offboarding.permissions import TRANSFER
from opiekun.plugins.offboarding.selection import transfer_selection
from opiekun.record_registry import RecordType


def transfer_to_form() -> type:
    """The recipient of "Transfer to…": an active user."""

    class TransferToForm(AdminForm):
        user = QuerySelectField(
            _l("Transfer to"),
            query_factory=active_users,
            get_label=user_label,
            validators=[DataRequired()],
            description=_l(
                "Only records of departed owners are transferred; filter the list by "
                "“Owner has departed”. Each owner's transfer can be undone in "
                "Offboarding → Transfers."
            ),
        )

    return TransferToForm


def transfer_to(record_type: RecordType, selection: RecordSelection, values: dict[str, Any]) -> str:
    """Give the selected records of departed owners to the chosen user (one undoable
    transfer per former owner)."""
    recipient = values["user"]
    transfers = transfer_selection(record_type, selection.condition, recipient.id, viewer())
    moved = sum(transfer.moved for transfer in transfers)
    return ngettext(
        "%(num)d record transferred to %(name)s (%(owners)d former owner(s)).",
        "%(num)d records transferred to %(name)s (%(owners)d former owner(s)).",
        moved,
        name=recipient.name,
        owners=len(transfers),
    )


def transfer_to_action(record_type: RecordType) -> BulkAction:
    """ "Transfer to…" for the list of ``record_type`` (whole filtered list too)."""
    return BulkAction(
        "offboarding_transfer_to",
        _l("Transfer to…"),
        transfer_to,
        form=transfer_to_form,
        whole_list=True,
        permission=TRANSFER.name,
    )
