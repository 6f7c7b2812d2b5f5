"""The webhooks plugin's jobs and their schedules."""

from __future__ import annotations

from opiekun.plugin import JobDefinition, Schedule
from opiekun.plugins.webhooks import delivery

DELIVER = "webhooks.deliver"
REDELIVER = "webhooks.redeliver"
DELIVER_DUE = "webhooks.deliver_due"
PURGE = "webhooks.purge"

JOBS = (
    JobDefinition(DELIVER, delivery.deliver, "Deliver the waiting events to one webhook endpoint", timeout=600),
    JobDefinition(REDELIVER, delivery.redeliver, "Send one webhook delivery again", timeout=120),
    JobDefinition(DELIVER_DUE, delivery.deliver_due, "Start deliveries that wait with no job at work", timeout=120),
    JobDefinition(PURGE, delivery.purge, "Delete webhook events and deliveries past their retention", timeout=3600),
)

SCHEDULES = (Schedule(job=DELIVER_DUE, interval=60), Schedule(job=PURGE, cron="15 4 * * *"))
