"""The core's helpers that plugins share: errors apart from HTTP, finding a row by id,
stored settings, pagination."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opiekun.api.errors import DOMAIN_ERROR_STATUSES, api_error_for
from opiekun.errors import Conflict, DomainError, Gone, Invalid, Message, NotFound, Refused
from opiekun.extensions import db
from opiekun.lookups import MAX_ID, find_by_id, get_by_id, is_possible_id, noun_of
from opiekun.models import Company, Notification, Pipeline, Setting
from opiekun.pagination import count_rows, fetch, page_of
from opiekun.stored_settings import SettingsStore, StoredSetting
from opiekun.users import SHOW_DEPARTED_USERS, show_departed_users

# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Refused("no"), 403, "forbidden"),
        (NotFound("none"), 404, "not_found"),
        (Conflict("taken"), 409, "conflict"),
        (Invalid("bad", {"name": "empty"}), 422, "invalid"),
        (Gone("expired"), 410, "gone"),
        (DomainError("?"), 400, "bad_request"),
    ],
)
def test_the_api_answers_each_domain_error_with_its_status(error, status, code):
    answer = api_error_for(error)
    assert (answer.status, answer.code) == (status, code)
    assert answer.body() == {"error": {"code": code, "message": error.message, "fields": error.fields}}


def test_a_subclass_of_a_domain_error_answers_like_its_kind_and_details_reach_the_body():
    class DealClosed(Conflict):
        pass

    answer = api_error_for(DealClosed(Message("closed %(id)s", id=3), {"status": "won"}, details={"deal_id": 3}))
    assert answer.status == 409
    assert answer.body() == {
        "error": {"code": "conflict", "message": "closed 3", "fields": {"status": "won"}, "deal_id": 3}
    }
    assert set(DOMAIN_ERROR_STATUSES) == {Refused, NotFound, Conflict, Invalid, Gone}


# --- finding a row by id -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "possible"), [(0, False), (-1, False), (1, True), (MAX_ID, True), (MAX_ID + 1, False), (2**63, False)]
)
def test_ids_are_checked_against_one_bound(value, possible):
    assert is_possible_id(value) is possible


def test_find_and_get_by_id(app_context):
    company = Company(name="Stal-Bud")
    db.session.add(company)
    db.session.commit()
    assert find_by_id(Company, company.id) is company
    assert find_by_id(Company, company.id, for_change=True) is company
    assert find_by_id(Company, 2**40) is None and find_by_id(Company, 0) is None
    assert get_by_id(Company, company.id) is company
    with pytest.raises(NotFound) as refusal:
        get_by_id(Company, company.id + 1)
    assert refusal.value.message == f"no company with id {company.id + 1}"
    with pytest.raises(NotFound) as refusal:
        get_by_id(Pipeline, 2**40, Message("no pipeline with id %(id)s", id=2**40))
    assert refusal.value.message.msgid == "no pipeline with id %(id)s"
    db.session.rollback()


def test_refusals_name_records_by_their_object_type_and_other_rows_by_class():
    assert noun_of(Company) == "company"
    assert noun_of(Notification) == "notification"


# --- stored settings -----------------------------------------------------------------------------


def test_a_setting_reads_its_default_until_one_is_saved_and_none_forgets_it(app_context):
    store = SettingsStore("partner")
    limit = store.setting("limit", default=10)
    assert limit == StoredSetting("partner.limit", 10) and store.key("limit") == "partner.limit"
    assert limit.read() == 10
    limit.write(25)
    assert limit.read() == 25
    limit.write(30)
    db.session.commit()
    assert db.session.get(Setting, "partner.limit").value == 30
    limit.write(None)
    db.session.commit()
    assert db.session.get(Setting, "partner.limit") is None and limit.read() == 10


def test_departed_users_are_shown_in_filters_unless_turned_off(app_context):
    assert SHOW_DEPARTED_USERS.key == "owner_filters.show_departed"
    assert show_departed_users() is True
    SHOW_DEPARTED_USERS.write(False)
    assert show_departed_users() is False
    db.session.rollback()


# --- pagination ------------------------------------------------------------------------------------


def test_pages_of_rows_with_the_total(app_context):
    db.session.add_all(Company(name=f"Firma {number:02d}") for number in range(7))
    db.session.commit()
    ordered = select(Company).order_by(Company.name)
    first = page_of(ordered, 1, 5)
    assert [company.name for company in first.rows] == [
        f"Firma {number:02d}" for number in range(5)
    ] and first.total == 7
    rows, total = page_of(ordered, 2, 5)
    assert [company.name for company in rows] == ["Firma 05", "Firma 06"] and total == 7
    assert page_of(ordered, 3, 5) == ([], 7)
    assert page_of(ordered, 1, 50).total == 7
    assert count_rows(ordered) == 7
    assert [tuple(row) for row in fetch(select(Company.name).order_by(Company.name).limit(1))] == [("Firma 00",)]
