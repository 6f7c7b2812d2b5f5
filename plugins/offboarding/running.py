"""Running a transfer: the background job commits each step on its own, so a run that dies
half-way is resumed by running the steps not yet done — every item moves exactly once.
Starting and resuming (the API and the admin panel) queue that job when the caller commits.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from opiekun.plugin import (
    Conflict,
    Message,
    TransferRequest,
    User,
    change_context,
    db,
    enqueue_on_commit,
    error_summary,
    utcnow,
)
from opiekun.plugins.offboarding.messages import status_label
from opiekun.plugins.offboarding.models import Transfer, TransferStep
from opiekun.plugins.offboarding.notifications import notify_recipients
from opiekun.plugins.offboarding.planning import TransferPlan, create_transfer
from opiekun.plugins.offboarding.transfers import TRANSFER_CONTEXT, TRANSFER_JOB, get_transfer, plugin_hooks

#: A run whose last step finished longer ago than this may be resumed (seconds).
DEFAULT_STALE_AFTER = 600


def _request_of(transfer: Transfer, step: TransferStep) -> TransferRequest:
    options = {**(transfer.options or {}), "follow_company_only": step.follow_company}
    return TransferRequest(
        from_user_id=transfer.from_user_id,
        to_user_id=step.to_user_id,
        object_types=frozenset({step.object_type}),
        include_closed=transfer.include_closed,
        share=step.share,
        options=options,
        transfer_id=transfer.id,
    )


def run_step(transfer: Transfer, step: TransferStep) -> int:
    """Move one step's items through every plugin's transfer hook, tagged with the transfer."""
    with change_context(**{TRANSFER_CONTEXT: transfer.id}):
        results = plugin_hooks().transfer_user_items(db.session, _request_of(transfer, step))
    counts: dict[str, int] = {}
    for result in results:
        if result.object_type == step.object_type and result.moved:
            counts[result.kind] = counts.get(result.kind, 0) + result.moved
    step.counts = counts
    step.moved = sum(counts.values())
    step.done_at = utcnow()
    return step.moved


def start_run(transfer_id: int) -> Transfer | None:
    """Mark the transfer running (committed); ``None`` when there is nothing left to run."""
    transfer = get_transfer(transfer_id, lock=True)
    if transfer.status not in ("queued", "running", "failed"):
        db.session.rollback()
        return None
    transfer.status = "running"
    transfer.error = None
    transfer.started_at = transfer.started_at or utcnow()
    transfer.heartbeat_at = utcnow()
    db.session.commit()
    return transfer


def run_transfer(transfer_id: int, progress=lambda done, total: None) -> dict[str, Any]:
    """Carry out a transfer: each step not yet done in a transaction of its own, then
    notify the recipients. Safe to run again after a crash, and twice at once (each step
    locks the transfer and is skipped when another run did it)."""
    transfer = start_run(transfer_id)
    if transfer is None:
        return {"transfer_id": transfer_id, "skipped": True}
    try:
        for position in [step.position for step in transfer.steps if step.done_at is None]:
            transfer = get_transfer(transfer_id, lock=True)
            step = next(step for step in transfer.steps if step.position == position)
            if step.done_at is None:
                transfer.moved += run_step(transfer, step)
                transfer.heartbeat_at = utcnow()
            db.session.commit()
            progress(transfer.moved, transfer.total)
        transfer = get_transfer(transfer_id, lock=True)
        transfer.status = "done"
        transfer.finished_at = utcnow()
        notify_recipients(transfer)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        mark_failed(transfer_id, error)
        raise
    return {"transfer_id": transfer_id, "moved": transfer.moved}


def mark_failed(transfer_id: int, error: BaseException) -> None:
    """Record that the run failed, and why (committed)."""
    transfer = get_transfer(transfer_id, lock=True)
    transfer.status = "failed"
    transfer.error = error_summary(error)
    transfer.finished_at = utcnow()
    db.session.commit()


def stale_after() -> int:
    """Seconds without progress after which a running transfer may be resumed."""
    return int(current_app.config.get("OFFBOARDING_STALE_AFTER", DEFAULT_STALE_AFTER))


def check_resumable(transfer: Transfer) -> None:
    """A failed run may be resumed, and a running one whose worker stopped beating (died);
    anything else: 409."""
    if transfer.status == "failed":
        return
    if transfer.status == "running":
        quiet_for = (utcnow() - (transfer.heartbeat_at or transfer.created_at)).total_seconds()
        if quiet_for >= stale_after():
            return
        raise Conflict(
            Message("transfer %(id)s is running (last step %(seconds)s s ago)", id=transfer.id, seconds=int(quiet_for)),
            {
                "status": Message(
                    "still running; it can be resumed when it has made no progress for %(seconds)s s",
                    seconds=stale_after(),
                )
            },
        )
    raise Conflict(
        Message("transfer %(id)s is %(status)s", id=transfer.id, status=status_label(transfer.status)),
        {"status": Message("a %(status)s transfer cannot be resumed", status=status_label(transfer.status))},
    )


def queue_again(transfer: Transfer) -> None:
    """Resume: the steps not done run again in a new job (the caller commits and enqueues)."""
    check_resumable(transfer)
    transfer.status = "queued"
    transfer.error = None
    transfer.heartbeat_at = utcnow()


def is_resumable(transfer: Transfer) -> bool:
    """Whether :func:`resume_transfer` would accept the transfer now."""
    try:
        check_resumable(transfer)
    except Conflict:
        return False
    return True


def start_job(transfer: Transfer, user: User) -> None:
    """Have the transfer's job queued when the caller commits (never if it rolls back)."""
    transfer.job_id = enqueue_on_commit(TRANSFER_JOB, user_id=user.id, user_name=user.name, transfer_id=transfer.id)


def start_transfer(plan: TransferPlan, user: User) -> Transfer:
    """Plan the transfer (refused, nothing saved, when the plan is wrong) and start its job
    on commit; the caller commits."""
    transfer = create_transfer(plan, user)
    start_job(transfer, user)
    return transfer


def resume_transfer(transfer_id: int, user: User) -> Transfer:
    """Queue the steps not yet done of a failed or stale transfer again (409 otherwise);
    the caller commits."""
    transfer = get_transfer(transfer_id, lock=True)
    queue_again(transfer)
    start_job(transfer, user)
    return transfer
