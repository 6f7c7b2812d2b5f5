"""What the webhooks API accepts and answers, as pydantic models: the same declarations
validate requests and describe the routes in ``/api/v1/openapi.json``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from opiekun.plugin.api import InputModel, OutputModel, Page, PageQuery, Text

Name = Text(200, min_length=1)
Url = Text(2000, min_length=1)
TypeName = Text(50, min_length=1)
Status = Literal["active", "paused", "failing"]


class WebhookEndpointCreate(InputModel):
    name: Name
    url: Url = Field(description="http(s) address that receives the deliveries (POST, JSON)")
    record_types: list[TypeName] = Field(
        default_factory=list, max_length=100, description="record types whose changes it gets; empty: every type"
    )
    operations: list[TypeName] = Field(
        default_factory=list,
        max_length=100,
        description="operations it gets (create, update, delete, or a plugin's own such as anonymize); empty: all",
    )


class WebhookEndpointUpdate(InputModel):
    name: Name | None = None
    url: Url | None = None
    record_types: list[TypeName] | None = Field(None, max_length=100)
    operations: list[TypeName] | None = Field(None, max_length=100)
    status: Literal["active", "paused"] | None = Field(
        None,
        description="active: deliver (an endpoint switched off after failures then delivers what it collected); "
        "paused: deliver nothing, collect nothing",
    )


class WebhookEndpointOut(OutputModel):
    id: int
    name: str
    url: str
    record_types: list[str]
    operations: list[str]
    status: Status = Field(description="failing: switched off after its deliveries kept failing")
    failures: int = Field(description="failed attempts since the last delivered one")
    next_attempt_at: dt.datetime | None
    last_error: str | None
    disabled_at: dt.datetime | None
    delivered_up_to: int = Field(description="the last event id the endpoint acknowledged")
    created_at: dt.datetime


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="signs every delivery (header Opiekun-Signature); keep it on the receiver only")


class WebhookEndpointPage(Page[WebhookEndpointOut]):
    """A page of webhook endpoints."""


class WebhookEndpointQuery(PageQuery):
    status: Status | None = None


class WebhookSecretOut(OutputModel):
    secret: str


class WebhookDeliveryOut(OutputModel):
    id: int
    key: str = Field(description="idempotency key: every attempt of this delivery carries it")
    endpoint_id: int
    first_event_id: int
    last_event_id: int
    event_count: int
    status: Literal["retrying", "delivered", "failed"]
    attempts: int
    response_status: int | None
    last_error: str | None
    duration_ms: int | None
    created_at: dt.datetime
    attempted_at: dt.datetime | None
    delivered_at: dt.datetime | None


class WebhookDeliveryPage(Page[WebhookDeliveryOut]):
    """A page of deliveries, newest first."""


class WebhookDeliveryQuery(PageQuery):
    status: Literal["retrying", "delivered", "failed"] | None = None


class WebhookRedeliveryOut(OutputModel):
    status: Literal["retrying", "queued"] = Field(
        description="retrying: the endpoint's next delivery is tried now; queued: a delivered one is sent again"
    )
