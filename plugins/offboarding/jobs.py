"""Background work of the offboarding plugin.

* ``offboarding.transfer``: carry out a planned transfer, step by step, with progress;
  run again after a crash it does only the steps not yet done.
"""

from __future__ import annotations

from opiekun.plugin import JobDefinition, report_progress
from opiekun.plugins.offboarding.running import run_transfer
from opiekun.plugins.offboarding.transfers import TRANSFER_JOB


def transfer_job(transfer_id: int) -> dict:
    """Job ``offboarding.transfer``: run the transfer's remaining steps."""
    return run_transfer(transfer_id, progress=report_progress)


JOBS = (JobDefinition(TRANSFER_JOB, transfer_job, "Transfer a user's items to other users", timeout=6 * 3600),)
