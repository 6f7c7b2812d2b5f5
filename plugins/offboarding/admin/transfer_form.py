"""The form that starts a transfer on a user's page — everything to one user, or split per
record type and across a team — and its translation into the planner's
:class:`~opiekun.plugins.offboarding.planning.TransferPlan`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, RadioField, SelectField
from wtforms.validators import NumberRange, Optional

from opiekun.plugin import RecordType, User, user_label
from opiekun.plugin.admin import AdminForm, active_users
from opiekun.plugins.offboarding.admin.common import (
    OPTION_LABELS,
    part_label,
    switched_on_labels,
    type_label,
    user_labels,
)
from opiekun.plugins.offboarding.planning import (
    ExpectedTransfer,
    SplitPart,
    TransferPlan,
    declared_options,
    plugin_options,
)

#: Team rows the transfer form shows at first ("Add a team member" adds more).
TEAM_ROWS = 3
#: As many split parts as the API accepts.
MAX_TEAM = 100


def optional_id(value: Any) -> int | None:
    """A select's user id; the empty choice is ``None``."""
    return None if value in (None, "", "None") else int(value)


def recipient_choices() -> list[tuple[str, str]]:
    """Every active user, after an empty "choose" entry."""
    return [("", gettext("— choose —"))] + [(str(user.id), user_label(user)) for user in active_users()]


def given_to_choices() -> list[tuple[str, str]]:
    """Who gets a record type whole; the empty choice shares it across the team."""
    return [("", gettext("— shared across the team —"))] + recipient_choices()[1:]


class TeamMemberForm(Form):
    """One member of the team sharing the types nobody gets whole, with a weight."""

    user = SelectField(_l("Team member"), coerce=optional_id, choices=recipient_choices, validate_choice=False)
    share = IntegerField(_l("Weight"), default=1, validators=[Optional(), NumberRange(min=1, max=1000)])


class TransferForm(AdminForm):
    """What a transfer moves and to whom; :func:`transfer_form` adds the record types."""

    mode = RadioField(
        _l("Give"),
        default="one",
        choices=[
            ("one", _l("everything chosen to one user")),
            ("split", _l("split: record types to different users and/or evenly across a team")),
        ],
    )
    to_user = SelectField(_l("Recipient"), coerce=optional_id, choices=recipient_choices, validate_choice=False)
    team = FieldList(FormField(TeamMemberForm), min_entries=TEAM_ROWS, max_entries=MAX_TEAM)
    include_closed = BooleanField(
        OPTION_LABELS["include_closed"],
        default=True,
        description=_l(
            "Won and lost deals, paid invoices, done tasks… (recommended: a client who comes back finds an owner)"
        ),
    )
    follow_company = BooleanField(
        OPTION_LABELS["follow_company"],
        description=_l("Persons, leads, deals, offers and invoices go to whoever gets their company"),
    )
    allow_active = BooleanField(
        OPTION_LABELS["allow_active"], description=_l("The user has not departed yet: move their items anyway")
    )


#: The form field of a plugin's transfer switch ``name``.
PLUGIN_OPTION = "option_{}"


def transfer_form(types: list[RecordType]) -> type[TransferForm]:
    """The form for a user holding items of ``types``: per type, whether to move it and,
    when splitting, to whom (or shared across the team); and the switches the enabled
    plugins offer (``option_<name>``)."""
    fields = {
        PLUGIN_OPTION.format(option.name): BooleanField(
            option.label, default=option.default, description=option.description
        )
        for option in declared_options()
    }
    for record_type in types:
        label = _l(record_type.label_plural)
        fields[f"take_{record_type.name}"] = BooleanField(label, default=True)
        fields[f"to_{record_type.name}"] = SelectField(
            label, coerce=optional_id, choices=given_to_choices, validate_choice=False
        )
    return type("UserTransferForm", (TransferForm,), fields)


def part_labels(index: int, label: str) -> dict[str, str]:
    """How the form names the fields of the API's ``split.<index>`` in a refusal."""
    return {f"split.{index}{suffix}": label for suffix in ("", ".user_id", ".object_types", ".share")}


def split_parts(form: TransferForm, chosen: list[str]) -> tuple[list[SplitPart], dict[str, str]]:
    """Types given whole (grouped by user), then the team's shares; with their labels."""
    given: dict[int, list[str]] = {}
    for name in chosen:
        user_id = form[f"to_{name}"].data
        if user_id is not None:
            given.setdefault(user_id, []).append(name)
    parts, labels = [], {}
    for user_id, names in given.items():
        labels.update(
            part_labels(len(parts), gettext("Recipient of %(types)s", types=", ".join(map(type_label, names))))
        )
        parts.append(SplitPart(user_id, object_types=tuple(names)))
    for number, member in enumerate(form.team, 1):
        if member.user.data is not None:
            labels.update(part_labels(len(parts), gettext("Team member %(number)d", number=number)))
            parts.append(SplitPart(member.user.data, share=member.share.data or 1))
    return parts, labels


def transfer_plan(form: TransferForm, user: User, types: list[RecordType]) -> tuple[TransferPlan, dict[str, str]]:
    """The form as the planner's plan, and the labels naming its fields in a refusal."""
    chosen = [record_type.name for record_type in types if form[f"take_{record_type.name}"].data]
    common = {
        "from_user_id": user.id,
        "object_types": tuple(chosen),
        "include_closed": form.include_closed.data,
        "follow_company": form.follow_company.data,
        "allow_active": form.allow_active.data,
        "options": {option.name: form[PLUGIN_OPTION.format(option.name)].data for option in declared_options()},
    }
    if form.mode.data == "one":
        return TransferPlan(to_user_id=form.to_user.data, **common), {}
    parts, labels = split_parts(form, chosen)
    return TransferPlan(split=tuple(parts), **common), labels


@dataclass(frozen=True)
class SummaryRow:
    """One step as the summary shows it: a record type, the part of it, how many items."""

    object_type: str
    type: str
    part: str
    count: int | None


@dataclass(frozen=True)
class RecipientSummary:
    """What one recipient would get."""

    name: str
    rows: list[SummaryRow]

    @property
    def total(self) -> int | None:
        """Their items in all (``None`` when records following their company are among them)."""
        counts = [row.count for row in self.rows]
        return None if None in counts else sum(count for count in counts if count is not None)


@dataclass(frozen=True)
class TransferSummary:
    """What the form's transfer would do if it started now — to whom each record type (or
    share of one) goes, and how many items — for the admin to confirm before it starts."""

    recipients: list[RecipientSummary]
    total: int
    options: list[str]
    follow_company: bool
    #: a plugin's switch sends items elsewhere: the counts are upper bounds
    redirected: bool
    #: What the admin confirms: the plan and its counts; a form changed since (or items
    #: that changed meanwhile) need a new summary.
    fingerprint: str

    @classmethod
    def of(cls, expected: ExpectedTransfer, plan: TransferPlan) -> TransferSummary:
        names = user_labels(step.step.to_user_id for step in expected.steps)
        grouped: dict[int, list[SummaryRow]] = {}
        for step in expected.steps:
            grouped.setdefault(step.step.to_user_id, []).append(
                SummaryRow(
                    step.step.object_type,
                    type_label(step.step.object_type),
                    part_label(step.part, step.step.follow_company),
                    step.count,
                )
            )
        switches = plugin_options(plan)
        options = switched_on_labels(
            {
                "include_closed": plan.include_closed,
                "follow_company": plan.follow_company,
                "allow_active": plan.allow_active,
                **{option.name: value for option, value in switches},
            }
        )
        seen = repr((plan, [(step.step, step.count) for step in expected.steps]))
        return cls(
            recipients=[RecipientSummary(names[user_id], rows) for user_id, rows in grouped.items()],
            total=expected.total,
            options=options,
            follow_company=plan.follow_company,
            redirected=any(option.redirects and value for option, value in switches),
            fingerprint=hashlib.sha256(seen.encode()).hexdigest()[:32],
        )
