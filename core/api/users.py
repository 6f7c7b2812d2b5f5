"""Users and API tokens."""

import datetime as dt
from typing import Annotated, Literal

from flask import Blueprint
from pydantic import AfterValidator, create_model
from sqlalchemy import or_, select

from opiekun.api.errors import Unauthorized
from opiekun.api.pagination import paginate
from opiekun.api.schemas import Email, ErrorBody, InputModel, OutputModel, Page, PageQuery, Text
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import authenticate, current_api_user, issue_token
from opiekun.errors import Invalid, Message
from opiekun.extensions import db
from opiekun.labels import LANGUAGES
from opiekun.local_time import is_time_zone
from opiekun.lookups import get_by_id
from opiekun.models import USER_STATUSES, User
from opiekun.permissions import role_exists
from opiekun.privileges import require_user_change_allowed, require_user_creation_allowed
from opiekun.users import change_password, change_role, mark_departed, reactivate, require_unique_email

RoleName = Text(50, min_length=1)
#: How strong a password must be is :mod:`opiekun.passwords`' rule (422 naming the field).
Password = Text(200, min_length=1)
UserStatus = Literal[USER_STATUSES]  # type: ignore[valid-type]
#: Fields a PATCH may set to null: the user goes back to the browser's language, the
#: deployment's time zone.
BACK_TO_DEFAULT = frozenset({"locale", "time_zone"})


def known_time_zone(name: str) -> str:
    if not is_time_zone(name):
        raise ValueError("not a time zone; use an IANA name such as Europe/Warsaw")
    return name


#: An IANA time zone name (``Europe/Warsaw``); times in the panel are shown in it.
TimeZoneName = Annotated[Text(64, min_length=1), AfterValidator(known_time_zone)]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]


class TokenRequest(InputModel):
    email: Text(254, min_length=1)
    password: Text(200, min_length=1)


class TokenAnswer(OutputModel):
    token: str
    user_id: int
    expires_in: int


class UserOut(OutputModel):
    id: int
    email: str
    name: str
    role: str
    status: str
    departed_at: dt.datetime | None
    created_at: dt.datetime
    display_name: str
    #: the user's language in the panel (null: the browser's)
    locale: str | None
    #: the user's time zone (null: the deployment's, ``OPIEKUN_TIME_ZONE``)
    time_zone: str | None


class UserCreate(InputModel):
    email: Email
    name: Text(200, min_length=1)
    password: Password
    role: RoleName = "user"
    locale: Language | None = None
    time_zone: TimeZoneName | None = None


class UserUpdate(InputModel):
    email: Email | None = None
    name: Text(200, min_length=1) | None = None
    password: Password | None = None
    #: Needed to change one's own password (not to reset someone else's).
    current_password: Text(200, min_length=1) | None = None
    role: RoleName | None = None
    status: UserStatus | None = None
    locale: Language | None = None
    time_zone: TimeZoneName | None = None


class UserListQuery(PageQuery):
    status: UserStatus | None = None
    role: RoleName | None = None
    q: Text(200) | None = None


UserPage = create_model("UserPage", __base__=Page[UserOut])

TAGS = ["Users"]


@validate(
    json=TokenRequest,
    answers={200: TokenAnswer, 429: ErrorBody},
    tags=["Authentication"],
    public=True,
    operation_id="issue_token",
)
def create_token():
    """A bearer token for the API. Too many failed attempts for one e-mail or from one
    address answer 429 with ``Retry-After`` (see :mod:`opiekun.login_throttle`)."""
    from opiekun.auth import TOKEN_MAX_AGE_SECONDS

    body = request_body()
    user = authenticate(body.email, body.password)
    if user is None:
        raise Unauthorized(Message("wrong e-mail or password, or the account is no longer active"))
    return TokenAnswer(token=issue_token(user), user_id=user.id, expires_in=TOKEN_MAX_AGE_SECONDS)


def get_user_or_404(user_id: int) -> User:
    """The user ``user_id``; 404 if there is none."""
    return get_by_id(User, user_id, Message("no user with id %(id)s", id=user_id))


@validate(query=UserListQuery, answers={200: UserPage}, tags=TAGS, operation_id="list_users")
def list_users():
    query = request_query()
    statement = select(User)
    if query.status:
        statement = statement.where(User.status == query.status)
    if query.role:
        statement = statement.where(User.role == query.role)
    if query.q:
        statement = statement.where(
            or_(User.name.icontains(query.q, autoescape=True), User.email.icontains(query.q, autoescape=True))
        )
    return paginate(statement.order_by(User.name, User.id), query, UserOut, UserPage)


def _check_role(role: str) -> None:
    if not role_exists(role):
        raise Invalid(
            Message("unknown role"),
            {"role": Message("no role %(role)r; use admin, manager, user or a custom role", role=role)},
        )


@validate(json=UserCreate, answers={201: UserOut}, tags=TAGS, operation_id="create_user", permission="users.manage")
def create_user():
    body = request_body()
    _check_role(body.role)
    require_user_creation_allowed(current_api_user(), body.role)
    require_unique_email(body.email)
    user = User(
        email=body.email.lower(),
        name=body.name,
        role=body.role,
        status="active",
        locale=body.locale,
        time_zone=body.time_zone,
    )
    change_password(current_api_user(), user, body.password)
    db.session.add(user)
    db.session.commit()
    return UserOut.model_validate(user), 201


@validate(answers={200: UserOut}, tags=TAGS, operation_id="get_user")
def get_user(user_id: int):
    return UserOut.model_validate(get_user_or_404(user_id))


def requested_changes(user: User, values: dict) -> dict:
    """The fields of ``values`` that would change ``user`` (a password always does)."""
    current = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "status": user.status,
        "locale": user.locale,
        "time_zone": user.time_zone,
    }
    return {
        field: value
        for field, value in values.items()
        if field == "password" or (value.lower() if field == "email" else value) != current.get(field)
    }


@validate(json=UserUpdate, answers={200: UserOut}, tags=TAGS, operation_id="update_user")
def update_user(user_id: int):
    caller = current_api_user()
    user = get_user_or_404(user_id)
    body = request_body()
    values = body.model_dump(exclude_unset=True)
    emptied = {name for name, value in values.items() if value is None} - BACK_TO_DEFAULT
    if emptied:
        raise Invalid(Message("fields cannot be emptied"), {name: Message("must not be null") for name in emptied})
    current_password = values.pop("current_password", None)
    changes = requested_changes(user, values)
    require_user_change_allowed(caller, user, changes)
    if "email" in changes:
        require_unique_email(changes["email"], user.id)
        user.email = changes["email"].lower()
    if "role" in changes:
        _check_role(changes["role"])
        change_role(user, changes["role"])
    for field in ("name", "locale", "time_zone"):
        if field in changes:
            setattr(user, field, changes[field])
    if "password" in changes:
        change_password(caller, user, changes["password"], current_password)
    if changes.get("status") == "departed":
        mark_departed(user)
    elif changes.get("status") == "active":
        reactivate(user)
    db.session.commit()
    return UserOut.model_validate(user)


def add_routes(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/auth/token", "issue_token", create_token, methods=["POST"])
    blueprint.add_url_rule("/users", "list_users", list_users, methods=["GET"])
    blueprint.add_url_rule("/users", "create_user", create_user, methods=["POST"])
    blueprint.add_url_rule("/users/<int:user_id>", "get_user", get_user, methods=["GET"])
    blueprint.add_url_rule("/users/<int:user_id>", "update_user", update_user, methods=["PATCH"])
