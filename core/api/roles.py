"""Roles and the permissions plugins declare: the built-in roles and custom ones."""

from flask import Blueprint
from pydantic import Field, field_validator
from sqlalchemy import select

from opiekun.api.pagination import page_of_list
from opiekun.api.schemas import InputModel, OutputModel, Page, PageQuery, Text
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.errors import Conflict, Invalid, Message, NotFound
from opiekun.extensions import db
from opiekun.models import BUILTIN_ROLES, Role
from opiekun.permissions import declared_permissions, permissions_of_role
from opiekun.privileges import require_permissions_grantable, require_role_change_allowed

TAGS = ["Roles"]


class PermissionOut(OutputModel):
    name: str
    label: str
    default_roles: list[str]


class PermissionList(Page[PermissionOut]):
    """A page of permissions."""


class RoleOut(OutputModel):
    name: str
    label: str
    builtin: bool
    permissions: list[str]


class RoleList(Page[RoleOut]):
    """A page of roles."""


RoleName = Text(50, min_length=1)


class RoleCreate(InputModel):
    name: RoleName = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text(100, min_length=1)
    permissions: list[Text(100, min_length=1)] = Field(default_factory=list, max_length=200)

    @field_validator("name")
    @classmethod
    def not_builtin(cls, name: str) -> str:
        if name in BUILTIN_ROLES:
            raise ValueError("is a built-in role")
        return name


class RoleUpdate(InputModel):
    label: Text(100, min_length=1) | None = None
    permissions: list[Text(100, min_length=1)] | None = Field(None, max_length=200)


def _role_out(name: str, label: str, builtin: bool) -> RoleOut:
    return RoleOut(name=name, label=label, builtin=builtin, permissions=sorted(permissions_of_role(name)))


def _check_permissions(names: list[str]) -> None:
    unknown = sorted(set(names) - set(declared_permissions()))
    if unknown:
        raise Invalid(
            Message("unknown permissions"),
            {"permissions": Message("no permission %(permissions)s", permissions=", ".join(unknown))},
        )


@validate(query=PageQuery, answers={200: PermissionList}, tags=TAGS, operation_id="list_permissions")
def list_permissions():
    items = [
        PermissionOut(name=p.name, label=p.label, default_roles=["admin", *p.roles])
        for p in declared_permissions().values()
    ]
    return page_of_list(items, request_query(), PermissionList)


@validate(query=PageQuery, answers={200: RoleList}, tags=TAGS, operation_id="list_roles")
def list_roles():
    items = [_role_out(name, name.capitalize(), True) for name in BUILTIN_ROLES]
    items += [_role_out(role.name, role.label, False) for role in db.session.scalars(select(Role).order_by(Role.name))]
    return page_of_list(items, request_query(), RoleList)


@validate(json=RoleCreate, answers={201: RoleOut}, tags=TAGS, operation_id="create_role", permission="roles.manage")
def create_role():
    body = request_body()
    _check_permissions(body.permissions)
    require_permissions_grantable(current_api_user(), body.permissions)
    if db.session.scalar(select(Role.id).where(Role.name == body.name)) is not None:
        raise Conflict(Message("a role with this name exists"), {"name": Message("already used")})
    db.session.add(Role(name=body.name, label=body.label, permissions=sorted(set(body.permissions))))
    db.session.commit()
    return _role_out(body.name, body.label, False), 201


@validate(json=RoleUpdate, answers={200: RoleOut}, tags=TAGS, operation_id="update_role", permission="roles.manage")
def update_role(role_name: str):
    role = db.session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        if role_name in BUILTIN_ROLES:
            raise NotFound(Message("no custom role %(name)r (built-in roles cannot be changed)", name=role_name))
        raise NotFound(Message("no custom role %(name)r", name=role_name))
    body = request_body()
    if body.permissions is not None:
        _check_permissions(body.permissions)
    require_role_change_allowed(current_api_user(), role.name, role.permissions or [], body.permissions)
    if body.label is not None:
        role.label = body.label
    if body.permissions is not None:
        role.permissions = sorted(set(body.permissions))
    db.session.commit()
    return _role_out(role.name, role.label, False)


def add_routes(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/permissions", "list_permissions", list_permissions, methods=["GET"])
    blueprint.add_url_rule("/roles", "list_roles", list_roles, methods=["GET"])
    blueprint.add_url_rule("/roles", "create_role", create_role, methods=["POST"])
    blueprint.add_url_rule("/roles/<string(maxlength=50):role_name>", "update_role", update_role, methods=["PATCH"])
