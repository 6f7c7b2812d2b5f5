"""Planning a transfer: what an admin asked for (:class:`TransferPlan`) checked and turned
into steps — one record type to one recipient, or a share of the type — saved ``queued``.
The job runs the steps (:mod:`.running`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from opiekun.plugin import (
    Conflict,
    Invalid,
    Message,
    TransferOption,
    User,
    db,
    record_types,
    record_types_label,
)
from opiekun.plugins.offboarding.models import Transfer, TransferStep
from opiekun.plugins.offboarding.preview import Preview, get_user, preview
from opiekun.plugins.offboarding.transfers import plugin_hooks, split_parts, transfer_under_way


@dataclass(frozen=True)
class SplitPart:
    """One recipient of a split: given whole record types, or a ``share`` (weight) of every
    type nobody is given."""

    user_id: int
    object_types: tuple[str, ...] | None = None
    share: int | None = None


@dataclass(frozen=True)
class TransferPlan:
    """What an admin asked for (the API's body, checked by :func:`plan_steps`)."""

    from_user_id: int
    to_user_id: int | None = None
    split: tuple[SplitPart, ...] = ()
    object_types: tuple[str, ...] | None = None
    include_closed: bool = True
    #: Persons, leads, deals, offers, invoices (any record with a company) go to whoever
    #: gets their company, before the rest of their type is given or shared.
    follow_company: bool = False
    allow_active: bool = False
    #: The switches the enabled plugins declare (``opiekun_transfer_options``), by name.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan: a record type (or a ``share`` of it) to one recipient."""

    object_type: str
    to_user_id: int
    share: tuple[int, int] | None = None
    follow_company: bool = False


def declared_options() -> list[TransferOption]:
    """The switches the enabled plugins offer on a transfer (offboarding knows none by name)."""
    return plugin_hooks().transfer_options()


def plugin_options(plan: TransferPlan) -> list[tuple[TransferOption, bool]]:
    """Each declared switch with the plan's value (or its default); a name no enabled
    plugin offers — or not a yes/no — is :class:`Invalid`, naming ``options.<name>``."""
    declared = {option.name: option for option in declared_options()}
    problems = {
        f"options.{name}": Message("no enabled plugin offers this option")
        if name not in declared
        else Message("give true or false")
        for name, value in plan.options.items()
        if name not in declared or not isinstance(value, bool)
    }
    if problems:
        raise Invalid(Message("some transfer options are not valid"), problems)
    return [(option, plan.options.get(option.name, option.default)) for option in declared.values()]


def check_sender(plan: TransferPlan) -> User:
    """The user whose items move: known, and departed unless ``allow_active``."""
    sender = get_user(plan.from_user_id, "from_user_id")
    if sender.status != "departed" and not plan.allow_active:
        raise Invalid(
            Message("the user is still active"),
            {
                "from_user_id": Message(
                    "%(name)s is active; mark them departed first, or set allow_active to move the items of an active user",
                    name=sender.name,
                )
            },
        )
    return sender


def check_recipient(user_id: int, sender: User, field_name: str) -> None:
    """A recipient must be known, active and someone else than the sender (422 naming ``field_name``)."""
    recipient = get_user(user_id, field_name)
    if recipient.id == sender.id:
        raise Invalid(
            Message("a transfer needs another user"),
            {field_name: Message("the items cannot be transferred to their own user")},
        )
    if recipient.status != "active":
        raise Invalid(
            Message("the recipient has departed"),
            {field_name: Message("%(name)s has departed and cannot receive items", name=recipient.name)},
        )


def _chosen_types(plan: TransferPlan, sender_preview: Preview) -> list[str]:
    registry = record_types()
    if plan.object_types is None:
        held = set(sender_preview.types())
        if not held:
            raise Invalid(
                Message("nothing to transfer"),
                {"from_user_id": Message("%(name)s has no items to transfer", name=sender_preview.user.name)},
            )
        return [record_type.name for record_type in registry if record_type.name in held]
    unknown = [name for name in plan.object_types if name not in registry]
    if unknown:
        raise Invalid(
            Message("unknown record types"),
            {"object_types": Message("no record type %(names)s", names=", ".join(sorted(unknown)))},
        )
    if not plan.object_types:
        raise Invalid(Message("nothing chosen"), {"object_types": Message("choose at least one record type")})
    return [record_type.name for record_type in registry if record_type.name in set(plan.object_types)]


def _split_steps(plan: TransferPlan, chosen: list[str]) -> list[PlannedStep]:
    """Whole types to the users named for them; every other chosen type shared, round-robin
    by count, across the users with a ``share`` (weights), one after another."""
    given: dict[str, int] = {}
    sharers: list[SplitPart] = []
    for index, part in enumerate(plan.split):
        where = f"split.{index}"
        if (part.object_types is None) == (part.share is None):
            raise Invalid(
                Message("a split part needs object_types or share"),
                {where: Message("give either object_types or share, not both")},
            )
        if part.share is not None:
            if any(other.user_id == part.user_id for other in sharers):
                raise Invalid(
                    Message("a user appears twice"), {f"{where}.user_id": Message("this user already has a share")}
                )
            sharers.append(part)
            continue
        for name in part.object_types:
            if name not in chosen:
                raise Invalid(
                    Message("type not chosen"),
                    {
                        f"{where}.object_types": Message(
                            "%(name)s is not among the types to transfer", name=record_types_label([name])
                        )
                    },
                )
            if name in given:
                raise Invalid(
                    Message("a type is given twice"),
                    {
                        f"{where}.object_types": Message(
                            "%(name)s is already given to another user", name=record_types_label([name])
                        )
                    },
                )
            given[name] = part.user_id
    left = [name for name in chosen if name not in given]
    if left and not sharers:
        raise Invalid(
            Message("the split does not cover every type"),
            {"split": Message("nobody is given: %(names)s", names=record_types_label(left))},
        )
    steps = [PlannedStep(name, given[name]) for name in chosen if name in given]
    for name in left:
        weights_left = sum(part.share for part in sharers)
        for position, part in enumerate(sharers):
            last = position == len(sharers) - 1
            steps.append(PlannedStep(name, part.user_id, None if last else (part.share, weights_left)))
            weights_left -= part.share
    return steps


def plan_steps(plan: TransferPlan) -> tuple[User, list[PlannedStep], int]:
    """Check the request (422 naming the field; 409 while another transfer of the user is
    under way) and turn it into steps; also returns the number of items to move."""
    sender = check_sender(plan)
    plugin_options(plan)
    if (plan.to_user_id is None) == (not plan.split):
        raise Invalid(
            Message("give to_user_id or split"),
            {"to_user_id": Message("give either one recipient or a split, not both")},
        )
    recipients = [plan.to_user_id] if plan.to_user_id is not None else [part.user_id for part in plan.split]
    for index, user_id in enumerate(recipients):
        check_recipient(user_id, sender, "to_user_id" if plan.to_user_id is not None else f"split.{index}.user_id")
    refuse_second_transfer(sender.id)
    sender_preview = preview(sender.id, plan.include_closed)
    chosen = _chosen_types(plan, sender_preview)
    if plan.to_user_id is not None:
        steps = [PlannedStep(name, plan.to_user_id) for name in chosen]
    else:
        steps = _split_steps(plan, chosen)
    if plan.follow_company:
        steps = _with_company_followers(steps)
    return sender, steps, sender_preview.total_of(chosen)


def _with_company_followers(steps: list[PlannedStep]) -> list[PlannedStep]:
    """Companies first; then, for every other type whose records have a company and every
    user who gets companies, a step moving the records of that user's companies; then the
    rest as planned."""
    registry = record_types()
    company_steps = [step for step in steps if step.object_type == "company"]
    receivers = list(dict.fromkeys(step.to_user_id for step in company_steps))
    followers = [
        PlannedStep(name, user_id, follow_company=True)
        for name in dict.fromkeys(step.object_type for step in steps if step.object_type != "company")
        if hasattr(registry.get(name).model, "company_id")
        for user_id in receivers
    ]
    return company_steps + followers + [step for step in steps if step.object_type != "company"]


@dataclass(frozen=True)
class ExpectedStep:
    """One step of a plan and what it would move if the transfer started now."""

    step: PlannedStep
    #: The part of its record type the recipient gets when the type is shared (see
    #: :func:`~opiekun.plugins.offboarding.transfers.split_parts`); ``None``: all of it.
    part: tuple[int, int] | None
    #: Items it would move now; ``None`` for the records that follow their company (known
    #: once the companies have moved).
    count: int | None


@dataclass(frozen=True)
class ExpectedTransfer:
    """What starting a plan would do now: who gets what, and how many items in all."""

    sender: User
    steps: list[ExpectedStep]
    total: int
    #: Records follow their company or go to their deputy: the counts of the steps are then
    #: at most what each recipient gets.
    approximate: bool


def items_in_share(count: int, share: tuple[int, int] | None) -> int:
    """How many of ``count`` items a step with ``share`` moves: ``take`` of every ``of``, in
    id order, as :func:`opiekun.user_items.in_share` selects them (everything without one)."""
    if share is None:
        return count
    take, of = share
    return count // of * take + min(count % of, take)


def expected_transfer(plan: TransferPlan) -> ExpectedTransfer:
    """What :func:`create_transfer` would plan for ``plan`` and move now, step by step, from
    the preview's counts — checked the same way (the same refusals), nothing saved: what
    the admin confirms before the transfer starts."""
    sender, steps, total = plan_steps(plan)
    left: dict[str, dict[str, int]] = {}
    for item in preview(sender.id, plan.include_closed).items:
        per_kind = left.setdefault(item.object_type, {})
        per_kind[item.kind] = per_kind.get(item.kind, 0) + item.total
    expected = []
    for step, part in zip(steps, split_parts(steps), strict=True):
        count = None
        if not step.follow_company:  # each plugin shares its own kind of items, one after another
            per_kind = left.get(step.object_type, {})
            moved = {kind: items_in_share(held, step.share) for kind, held in per_kind.items()}
            per_kind.update({kind: per_kind[kind] - taken for kind, taken in moved.items()})
            count = sum(moved.values())
        expected.append(ExpectedStep(step, part, count))
    redirected = any(option.redirects and value for option, value in plugin_options(plan))
    return ExpectedTransfer(sender, expected, total, approximate=plan.follow_company or redirected)


def refuse_second_transfer(user_id: int) -> None:
    """409 while another transfer of the user is queued or running."""
    running = transfer_under_way(user_id)
    if running is not None:
        raise Conflict(
            Message("transfer %(id)s of this user is still under way", id=running),
            {"from_user_id": Message("a transfer is under way")},
            details={"transfer_id": running},
        )


def create_transfer(plan: TransferPlan, requested_by: User | None) -> Transfer:
    """Save the transfer and its steps (``queued``); the caller commits and starts the job."""
    sender, steps, total = plan_steps(plan)
    options = {
        **{option.name: value for option, value in plugin_options(plan)},
        "follow_company": plan.follow_company,
        "allow_active": plan.allow_active,
    }
    transfer = Transfer(
        from_user_id=sender.id,
        requested_by_id=requested_by.id if requested_by else None,
        status="queued",
        object_types=list(dict.fromkeys(step.object_type for step in steps)),
        include_closed=plan.include_closed,
        options=options,
        total=total,
        moved=0,
    )
    transfer.steps = [
        TransferStep(
            position=position,
            object_type=step.object_type,
            to_user_id=step.to_user_id,
            share_take=step.share[0] if step.share else None,
            share_of=step.share[1] if step.share else None,
            follow_company=step.follow_company,
        )
        for position, step in enumerate(steps)
    ]
    db.session.add(transfer)
    try:
        db.session.flush()
    except IntegrityError:  # another request planned a transfer of the same user meanwhile
        db.session.rollback()
        refuse_second_transfer(plan.from_user_id)
        raise
    return transfer
