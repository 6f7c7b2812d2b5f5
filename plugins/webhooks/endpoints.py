"""The rules of webhook endpoints, for the API and the panel alike: registering one
(checking its URL, record types and operations), changing it, switching it on, pausing
it, a new secret, and asking for a delivery again.

The caller holds ``webhooks.manage`` (checked by the route or the view); these functions
change the session and leave the commit to the caller.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import delete, func, select

from opiekun.plugin import (
    Conflict,
    Invalid,
    Message,
    NotFound,
    User,
    db,
    enqueue,
    enqueue_on_commit,
    get_by_id,
    record_types,
)
from opiekun.plugins.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from opiekun.plugins.webhooks.settings import webhook_settings
from opiekun.plugins.webhooks.signing import new_secret

#: operations every record type has; plugins add their own (``anonymize``, ``owner_assigned``…)
BASIC_OPERATIONS = ("create", "update", "delete")
MAX_URL_LENGTH = 2000
#: how many of the newest events show which operations exist
RECENT_EVENTS = 10_000
#: fields an endpoint's change may name
FIELDS = ("name", "url", "record_types", "operations")


def known_operations() -> list[str]:
    """Operations an endpoint may be given in the panel: the basic three, those of the
    latest 10,000 events (a plugin's own, such as ``anonymize``) and those endpoints ask
    for already (the API takes any operation name)."""
    newest = db.session.scalar(select(func.max(WebhookEvent.id))) or 0
    seen = set(
        db.session.scalars(
            select(WebhookEvent.operation).where(WebhookEvent.id > newest - RECENT_EVENTS).distinct()
        ).all()
    )
    for operations in db.session.scalars(select(WebhookEndpoint.operations)):
        seen.update(operations or ())
    return sorted(set(BASIC_OPERATIONS) | seen, key=lambda name: (name not in BASIC_OPERATIONS, name))


def create_endpoint(actor: User, values: Mapping[str, Any]) -> WebhookEndpoint:
    """A new endpoint, active, with a fresh secret; it gets the events committed from now on."""
    checked = _checked(values, required=True)
    endpoint = WebhookEndpoint(
        **checked,
        secret=new_secret(),
        status="active",
        created_by_id=actor.id,
        delivered_up_to=_last_event_id(),
        failures=0,
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, values: Mapping[str, Any]) -> WebhookEndpoint:
    """Change the name, URL, record types or operations (those given)."""
    for name, value in _checked(values, required=False).items():
        setattr(endpoint, name, value)
    db.session.flush()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log (the events stay for other endpoints)."""
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret; deliveries from now on are signed with it. Returns it."""
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def switch_on(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Deliver again. An endpoint switched off after failures delivers what it collected
    meanwhile, starting with the delivery that failed; a paused one starts with the
    events committed from now on."""
    if endpoint.status == "paused":
        endpoint.delivered_up_to = _last_event_id()
    endpoint.status = "active"
    endpoint.failures = 0
    endpoint.next_attempt_at = None
    endpoint.disabled_at = None
    db.session.flush()
    enqueue_on_commit("webhooks.deliver", once=True, endpoint_id=endpoint.id)
    return endpoint


def pause(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop delivering and collecting; switched on again, the endpoint gets only what is
    committed from then on."""
    endpoint.status = "paused"
    endpoint.next_attempt_at = None
    db.session.flush()
    return endpoint


def redeliver(delivery: WebhookDelivery) -> str:
    """Send a delivery again, with the same events and idempotency key.

    The endpoint's next delivery (not yet acknowledged) is tried now, in its turn; one it
    acknowledged already is sent once more by a job of its own. Returns what happens:
    ``"retrying"`` or ``"queued"``.
    """
    endpoint = delivery.endpoint
    if delivery.first_event_id > endpoint.delivered_up_to:
        if endpoint.status != "active":
            raise Conflict(Message("switch the endpoint on first: its deliveries wait until it is on"))
        endpoint.next_attempt_at = None
        db.session.flush()
        enqueue_on_commit("webhooks.deliver", once=True, endpoint_id=endpoint.id)
        return "retrying"
    oldest = db.session.scalar(select(func.min(WebhookEvent.id)))
    if oldest is None or delivery.first_event_id < oldest:
        days = webhook_settings().retention_days
        raise Conflict(Message("the events of this delivery are gone: they are kept %(days)s days", days=days))
    enqueue("webhooks.redeliver", delivery_id=delivery.id)
    return "queued"


def endpoint_by_id(endpoint_id: int) -> WebhookEndpoint:
    return get_by_id(WebhookEndpoint, endpoint_id, Message("no webhook endpoint with id %(id)s", id=endpoint_id))


def delivery_of(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """The endpoint's delivery ``delivery_id`` (404 for another endpoint's)."""
    delivery = get_by_id(WebhookDelivery, delivery_id, Message("no delivery with id %(id)s", id=delivery_id))
    if delivery.endpoint_id != endpoint.id:
        raise NotFound(Message("no delivery with id %(id)s", id=delivery_id))
    return delivery


def _last_event_id() -> int:
    return db.session.scalar(select(func.max(WebhookEvent.id))) or 0


# --- checking what is given --------------------------------------------------------------


def _checked(values: Mapping[str, Any], required: bool) -> dict[str, Any]:
    problems: dict[str, str] = {}
    checked: dict[str, Any] = {}
    if "name" in values or required:
        name = " ".join(str(values.get("name") or "").split())
        if not name:
            problems["name"] = Message("give the endpoint a name")
        elif len(name) > 200:
            problems["name"] = Message("at most %(count)s characters", count=200)
        checked["name"] = name
    if "url" in values or required:
        url = str(values.get("url") or "").strip()
        problem = url_problem(url)
        if problem:
            problems["url"] = problem
        checked["url"] = url
    if "record_types" in values or required:
        kinds = _names(values.get("record_types"))
        unknown = [name for name in kinds if name not in record_types().names()]
        if unknown:
            problems["record_types"] = Message("unknown record types: %(names)s", names=", ".join(unknown))
        checked["record_types"] = kinds
    if "operations" in values or required:
        operations = _names(values.get("operations"))
        bad = [name for name in operations if not name.replace("_", "").isalnum() or len(name) > 50]
        if bad:
            problems["operations"] = Message("not operation names: %(names)s", names=", ".join(bad))
        checked["operations"] = operations
    if problems:
        raise Invalid(Message("the endpoint was not saved"), problems)
    return checked


def _names(value: Iterable[str] | None) -> list[str]:
    return sorted({str(name).strip() for name in value or () if str(name).strip()})


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive deliveries, or ``None``: an ``http(s)`` address of a host
    that resolves — outside private networks unless the deployment allows them."""
    if not url:
        return Message("give the address that receives the events")
    if len(url) > MAX_URL_LENGTH:
        return Message("at most %(count)s characters", count=MAX_URL_LENGTH)
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        return Message("an address has no spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return Message("not a web address")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Message("use an http:// or https:// address")
    if parts.username or parts.password:
        return Message("put no user name or password in the address: deliveries are signed")
    return address_problem(parts)


def address_problem(parts: SplitResult) -> str | None:
    """Why deliveries may not go to the host of the address ``parts`` (it does not resolve,
    or it is in a private network or this machine and the deployment does not allow that),
    or ``None``. Asked when the endpoint is saved and before every delivery (a name may
    change its address)."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        return Message("the host %(host)s is not found", host=host)
    if webhook_settings().allow_private_addresses:
        return None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            return Message(
                "%(host)s is in a private network or on this machine; deliveries go to public addresses",
                host=host,
            )
    return None
