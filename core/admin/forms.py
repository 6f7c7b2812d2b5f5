"""Form building blocks of the admin: the CSRF-protected base form and the fields that
link a record to users and to other records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_admin.babel import Translations
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.form import SecureForm
from flask_admin.model.fields import AjaxSelectField
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Field, FieldList, FormField
from wtforms.validators import ValidationError

from opiekun.api.schemas import CONTROL_CHARACTERS
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

    def validate(self, extra_validators=None) -> bool:
        """The fields' own validators, and no text field (of this form or of a form inside
        it: a pipeline's stages…) holding a control character, as the API refuses them."""
        valid = super().validate(extra_validators)
        for field in text_fields(self):
            if CONTROL_CHARACTERS.search(field.data):
                field.errors = [*field.errors, str(CONTROL_CHARACTERS_MESSAGE)]  # Flask-Admin shows str errors only
                valid = False
        return valid


#: What a text field holding a control character (but tab and line breaks) says.
CONTROL_CHARACTERS_MESSAGE = _l("Control characters are not allowed (only tab and line breaks).")


def text_fields(form) -> Iterator[Field]:
    """The fields of ``form`` holding text, those of nested forms and lists included."""
    for field in form:
        yield from _text_fields_in(field)


def _text_fields_in(field: Field) -> Iterator[Field]:
    if isinstance(field, FormField):
        yield from text_fields(field.form)
    elif isinstance(field, FieldList):
        for entry in field.entries:
            yield from _text_fields_in(entry)
    elif isinstance(field.data, str):
        yield field


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
