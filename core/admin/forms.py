"""Form building blocks of the admin: the CSRF-protected base form and the fields that
link a record to users and to other records."""
from __future__ import annotations

from typing import Any

from flask_admin.babel import Translations
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.form import SecureForm
from flask_admin.model.fields import AjaxSelectField
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.validators import ValidationError

from opiekun.extensions import db
from opiekun.models import User


class AdminForm(SecureForm):
    """Flask-Admin's secure form, with the CSRF token of Flask-WTF.

    The app protects every POST with Flask-WTF's ``CSRFProtect``, which checks the
    ``csrf_token`` field; Flask-Admin's own ``SessionCSRF`` token would not pass that
    check, so the admin's forms (edit, delete, bulk actions) carry Flask-WTF's token.
    """

    class Meta(FlaskForm.Meta):
        _translations = Translations()

        def get_translations(self, form):
            """Flask-Admin's translations of WTForms' messages (Polish and English)."""
            return self._translations


def active_users():
    """The users who may own records: active ones, by name."""
    return db.session.scalars(select(User).where(User.status == "active").order_by(User.name, User.id)).all()


class OwnerField(QuerySelectField):
    """The owner select: active users, or nobody. A value that is not offered (a departed
    user, an unknown id) is refused — the plain select would quietly read it as "nobody"."""

    submitted_value: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.submitted_value = valuelist[0] if valuelist else None

    def pre_validate(self, form) -> None:
        if self.submitted_value not in (None, "", "__None") and self.data is None:
            raise ValidationError(self.gettext("Not a valid choice"))
        super().pre_validate(form)


class ReferenceField(AjaxSelectField):
    """A link to another record through a plain id column (a foreign key without an ORM
    relationship), picked by searching that record type; empty means no link."""

    def __init__(self, loader: QueryAjaxModelLoader, label: Any = None, **kwargs: Any):
        kwargs.setdefault("render_kw", {"data-placeholder": _l("Type to search…")})
        super().__init__(loader, label, allow_blank=True, **kwargs)

    def process_data(self, value: Any) -> None:
        """The form opens on an existing record: show the linked record, not its id."""
        self.data = self.loader.get_one(value) if value is not None else None

    def populate_obj(self, obj: Any, name: str) -> None:
        setattr(obj, name, self.data.id if self.data is not None else None)
