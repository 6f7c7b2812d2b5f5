"""How a user's tasks are shared, in the admin: users manage their own grants, holders
of ``tasks.share_others`` anyone's."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import DataRequired

from opiekun.plugin import db, has_permission, user_label
from opiekun.plugin.admin import OpiekunModelView, active_users
from opiekun.plugins.tasks.admin.labels import FIELD_LABELS, TASKS_CATEGORY, choices_of, value_name
from opiekun.plugins.tasks.admin.viewer import attempt_task_change, viewer
from opiekun.plugins.tasks.models import SHARING_LEVELS, TaskShare
from opiekun.plugins.tasks.permissions import SHARE_OTHERS
from opiekun.plugins.tasks.services import sharing


class TaskShareView(OpiekunModelView):
    """How a user's tasks are shared: users manage their own, admins anyone's."""

    column_list = ("owner", "grantee", "task_type", "level")
    column_labels = {**FIELD_LABELS, "owner": _l("Whose tasks")}
    column_formatters = {
        "owner": lambda view, context, model, name: user_label(model.owner),
        "grantee": lambda view, context, model, name: user_label(model.grantee),
        "level": value_name,
        "task_type": lambda view, context, model, name: (
            model.task_type.name if model.task_type else gettext("all types")
        ),
    }
    form_columns = ("owner", "grantee", "task_type", "level")
    form_choices = {"level": choices_of(SHARING_LEVELS)}
    form_args = {
        "owner": {"query_factory": active_users, "get_label": user_label},
        "grantee": {"query_factory": active_users, "get_label": user_label, "validators": [DataRequired()]},
        "task_type": {"allow_blank": True, "blank_text": _l("(all types)")},
    }

    list_template = "tasks/sharing_list.html"

    def __init__(self):
        super().__init__(TaskShare, db, name=_l("Task sharing"), category=TASKS_CATEGORY, endpoint="task_sharing")

    def render(self, template, **kwargs):
        kwargs.setdefault("received_shares", self.received_shares())
        return super().render(template, **kwargs)

    def received_shares(self) -> list[dict[str, str]]:
        """Whose tasks the viewer sees and how (grants others made to them), for the list page."""
        shares = db.session.scalars(sharing.list_shares(viewer(), grantee_id=viewer().id)).all()
        return [
            {
                "owner": user_label(share.owner),
                "task_type": share.task_type.name if share.task_type else gettext("all types"),
                "level": value_name(None, None, share, "level"),
            }
            for share in shares
            if share.owner_id != viewer().id
        ]

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            form.owner.data = viewer()
        return form

    def mine(self, query):
        """Only the viewer's own grants, unless they may set anyone's."""
        if has_permission(current_user, SHARE_OTHERS.name):
            return query
        return query.filter(TaskShare.owner_id == current_user.id)

    def get_query(self):
        return self.mine(super().get_query())

    def get_count_query(self):
        return self.mine(super().get_count_query())

    def get_one(self, id):
        share = super().get_one(id)
        if share is None or (share.owner_id != current_user.id and not has_permission(current_user, SHARE_OTHERS.name)):
            return None
        return share

    def save(self, form, previous: TaskShare | None):
        """Replace ``previous`` (if any) with the grant the form describes; the new grant, or False."""

        def replace_share() -> TaskShare:
            if previous is not None:
                sharing.delete_share(viewer(), previous.id)
            share, _ = sharing.set_share(
                viewer(),
                form.owner.data.id,
                form.grantee.data.id,
                form.task_type.data.id if form.task_type.data else None,
                form.level.data,
            )
            return share

        succeeded, share = attempt_task_change(replace_share)
        return share if succeeded else False

    def create_model(self, form):
        return self.save(form, None)

    def update_model(self, form, model):
        return bool(self.save(form, model))

    def delete_model(self, model):
        return attempt_task_change(lambda: sharing.delete_share(viewer(), model.id))[0]
