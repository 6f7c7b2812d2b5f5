"""Plugins, notifications and background jobs."""

import datetime as dt

from flask import Blueprint, current_app
from pydantic import create_model
from sqlalchemy import select

from opiekun.api.pagination import page_of_list, paginate
from opiekun.api.schemas import OutputModel, Page, PageQuery
from opiekun.api.spec import request_query, validate
from opiekun.auth import current_api_user
from opiekun.errors import Message, NotFound, Refused
from opiekun.extensions import db
from opiekun.jobs import job_state
from opiekun.lookups import find_by_id
from opiekun.models import Notification, utcnow
from opiekun.permissions import has_permission


class PluginOut(OutputModel):
    name: str
    version: str
    summary: str
    depends: list[str]
    hooks: list[str]


class SkippedPlugin(OutputModel):
    name: str
    reason: str


class PluginList(Page[PluginOut]):
    """A page of plugins."""

    skipped: list[SkippedPlugin]


class NotificationOut(OutputModel):
    id: int
    kind: str
    message: str
    object_type: str | None
    object_id: int | None
    data: dict | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationQuery(PageQuery):
    unread: bool | None = None


NotificationPage = create_model("NotificationPage", __base__=Page[NotificationOut])


class JobOut(OutputModel):
    id: str
    name: str
    status: str
    progress_done: int
    progress_total: int | None
    result: dict | None
    error: str | None


@validate(query=PageQuery, answers={200: PluginList}, tags=["System"], operation_id="list_plugins")
def list_plugins():
    host = current_app.extensions["opiekun.plugins"]
    items = [
        PluginOut(
            name=plugin.name,
            version=plugin.manifest.version,
            summary=plugin.manifest.summary,
            depends=list(plugin.manifest.depends),
            hooks=host.hooks_of(plugin.name),
        )
        for plugin in host.plugins
    ]
    skipped = [SkippedPlugin(name=name, reason=reason) for name, reason in sorted(host.skipped.items())]
    return page_of_list(items, request_query(), PluginList, skipped=skipped)


@validate(
    query=NotificationQuery, answers={200: NotificationPage}, tags=["Notifications"], operation_id="list_notifications"
)
def list_notifications():
    query = request_query()
    statement = select(Notification).where(Notification.user_id == current_api_user().id)
    if query.unread is not None:
        statement = statement.where(
            Notification.read_at.is_(None) if query.unread else Notification.read_at.is_not(None)
        )
    return paginate(statement.order_by(Notification.id.desc()), query, NotificationOut, NotificationPage)


@validate(answers={200: NotificationOut}, tags=["Notifications"], operation_id="read_notification")
def mark_notification_read(notification_id: int):
    notification = find_by_id(Notification, notification_id)
    if notification is None or notification.user_id != current_api_user().id:
        raise NotFound(Message("no notification with id %(id)s", id=notification_id))
    notification.read_at = notification.read_at or utcnow()
    db.session.commit()
    return NotificationOut.model_validate(notification)


@validate(answers={200: JobOut}, tags=["System"], operation_id="get_job")
def get_job(job_id: str):
    state = job_state(job_id)
    if state is None:
        raise NotFound(Message("no job %(id)s", id=job_id))
    user = current_api_user()
    if state["user_id"] != user.id and not has_permission(user, "jobs.view_all"):
        raise Refused(Message("this job was started by another user"))
    return JobOut(**{key: state[key] for key in JobOut.model_fields})


def add_routes(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/plugins", "list_plugins", list_plugins, methods=["GET"])
    blueprint.add_url_rule("/notifications", "list_notifications", list_notifications, methods=["GET"])
    blueprint.add_url_rule(
        "/notifications/<int:notification_id>/read", "read_notification", mark_notification_read, methods=["POST"]
    )
    blueprint.add_url_rule("/jobs/<string(length=36):job_id>", "get_job", get_job, methods=["GET"])
