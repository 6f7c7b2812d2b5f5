"""List totals at scale (issue 20): exact up to the exact-count limit; beyond it, on
PostgreSQL, the planner's estimate marked ``total_is_estimate`` in the API and shown as
"ponad …" in the panel, so no list counts a million rows to draw its pager. SQLite has no
estimate and keeps counting exactly. The tests lower the limit to 5 instead of loading
10,000 rows; what is counted and how does not depend on the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.pagination import Total, page_of, total_of
from opiekun.testing.apps import on_postgres
from opiekun.testing.clients import AdminBrowser
from tests.support.statements import statements_sent


@pytest.fixture
def limit_of_five(app):
    before = app.config["EXACT_COUNT_LIMIT"]
    app.config["EXACT_COUNT_LIMIT"] = 5
    yield 5
    app.config["EXACT_COUNT_LIMIT"] = before


def add_companies(app, count: int, city: str, in_city: int) -> None:
    """``count`` companies, the first ``in_city`` of them in ``city`` (the rest in Kraków),
    analysed as autovacuum would have."""
    with app.app_context():
        db.session.execute(
            insert(Company), [{"name": f"Firma {n}", "city": city if n < in_city else "Kraków"} for n in range(count)]
        )
        db.session.commit()
        if on_postgres():
            db.session.execute(text("ANALYZE companies"))
            db.session.commit()


@pytest.fixture
def twelve_companies(app, admin):
    """Twelve companies, four of them in Gdańsk."""
    add_companies(app, 12, "Gdańsk", 4)
    return admin


def test_a_total_within_the_limit_is_exact(api, twelve_companies, limit_of_five):
    answer = api.get("/companies", twelve_companies, query_string={"city": "Gdańsk", "per_page": 2}).get_json()

    assert (answer["total"], answer["total_is_estimate"]) == (4, False)
    assert len(answer["items"]) == 2


def test_a_total_beyond_the_limit_is_the_estimate_on_postgresql_and_exact_on_sqlite(
    api, twelve_companies, limit_of_five
):
    answer = api.get("/companies", twelve_companies, query_string={"per_page": 2, "page": 3}).get_json()

    assert [item["name"] for item in answer["items"]] and answer["page"] == 3
    if on_postgres():
        assert answer["total_is_estimate"] is True
        assert answer["total"] >= 6, "never below the limit + 1"
        assert answer["total"] == 12, "ANALYZE told the planner how many rows the table holds"
    else:
        assert (answer["total"], answer["total_is_estimate"]) == (12, False)


def test_a_short_first_page_is_the_whole_list_whatever_the_limit(api, twelve_companies, limit_of_five):
    answer = api.get("/companies", twelve_companies, query_string={"per_page": 50}).get_json()

    assert (answer["total"], answer["total_is_estimate"]) == (12, False)


def test_counting_stops_after_the_limit(app, twelve_companies, limit_of_five):
    """The exact count reads at most limit + 1 rows: the statement sent says so."""
    with statements_sent(app) as sent, app.app_context():
        total = total_of(select(Company).order_by(Company.id))

    assert isinstance(total, Total) and total >= 6
    counting = [statement for statement in sent if statement.lower().startswith("select count(")]
    assert counting and "LIMIT" in counting[0].upper()
    # the rows counted select no column (SQLite would read each row's columns from the table)
    assert "companies.name" not in counting[0] and "SELECT 1" in counting[0].upper()


def test_a_distinct_list_is_counted_by_its_columns(app, twelve_companies):
    with app.app_context():
        cities = select(Company.city).distinct()
        assert total_of(cities) == len(set(db.session.scalars(cities)))


def test_nothing_is_counted_when_the_planner_expects_ten_times_the_limit(app, api, admin, limit_of_five):
    """Like a frequent word among a million records: counting the first 10,001 matches read
    every match's index entry; an estimate over ten times the limit is answered as it is."""
    add_companies(app, 90, "Łódź", 80)

    with statements_sent(app) as sent:
        answer = api.get("/companies", admin, query_string={"city": "Łódź", "per_page": 2}).get_json()

    counting = [statement for statement in sent if statement.lower().startswith("select count(")]
    if on_postgres():
        assert (answer["total"], answer["total_is_estimate"]) == (80, True), "ANALYZE's exact estimate"
        assert not counting, "over 50 expected: not counted"
    else:
        assert (answer["total"], answer["total_is_estimate"]) == (80, False)
        assert counting


def test_other_lists_answer_whether_the_total_is_an_estimate(api, admin, limit_of_five):
    for path in ("/users", "/roles", "/pipelines", "/plugins"):
        answer = api.get(path, admin).get_json()
        assert answer["total_is_estimate"] is False, path


def test_the_panel_shows_more_than_the_limit_when_the_total_is_estimated(app, twelve_companies, limit_of_five):
    browser = AdminBrowser(app)
    browser.log_in(twelve_companies)

    whole = browser.get("/admin/company/?page_size=2").get_data(as_text=True)
    in_gdansk = browser.get("/admin/company/?search=gdansk&page_size=2").get_data(as_text=True)

    if on_postgres():
        assert "Lista (ponad 5)" in whole
        assert "Wszystkie pasujące (ponad 5)" in whole
    else:
        assert "Lista (12)" in whole
    assert "Lista (4)" in in_gdansk


def test_page_of_marks_an_estimate_only_beyond_the_limit(app, twelve_companies, limit_of_five):
    with app.app_context():
        rows, total = page_of(select(Company).where(Company.city == "Gdańsk").order_by(Company.id), 1, 2)
        assert (len(rows), total, total.is_estimate) == (2, 4, False)
        rows, total = page_of(select(Company).order_by(Company.id), 2, 2)
        assert len(rows) == 2 and total.is_estimate is on_postgres()


def test_the_change_history_counts_the_same_way(app, api, admin, limit_of_five):
    for number in range(8):
        assert api.post("/companies", admin, json={"name": f"Historia {number}"}).status_code == 201
    with app.app_context():
        if on_postgres():
            db.session.execute(text("ANALYZE audit_entries"))
            db.session.commit()
    browser = AdminBrowser(app)
    browser.log_in(admin)

    answer = api.get("/audit", admin, query_string={"per_page": 2}).get_json()
    # the second page: a first page shorter than a page is counted by its rows, exactly
    page = browser.get("/admin/audit/?page=2").get_data(as_text=True)
    for_one = api.get("/audit", admin, query_string={"per_page": 2, "operation": "delete"}).get_json()

    if on_postgres():
        assert answer["total_is_estimate"] is True and answer["total"] >= 6
        assert "Wpisów: ponad 5" in page
    else:
        assert (answer["total"], answer["total_is_estimate"]) == (8, False)
        assert "Wpisów: 8" in page
    assert (for_one["total"], for_one["total_is_estimate"]) == (0, False)
