"""Searching records (issue 20): ``?q=`` and the panel's search box find records case and
accents aside, every word somewhere in the type's search columns; on PostgreSQL through a
trigram index per search column, which every record type's migration creates."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.record_queries import filtered_records
from opiekun.search import fold, search_index_name
from opiekun.testing.apps import on_postgres
from opiekun.testing.clients import AdminBrowser


def names(api, user, path: str, query: str) -> list[str]:
    response = api.get(path, user, query_string={"q": query, "per_page": 100})
    assert response.status_code == 200, response.get_json()
    return sorted(item.get("name") or item.get("last_name") for item in response.get_json()["items"])


@pytest.fixture
def firms(api, admin):
    for name in ("Kowalski i Syn", "Żółw sp. z o.o.", "Łódzka Fabryka Mebli", "Nowak", "Rabat 50%", "Rabat 500"):
        assert api.post("/companies", admin, json={"name": name, "city": "Gdańsk"}).status_code == 201
    return admin


def test_case_and_accents_do_not_matter(api, firms):
    assert names(api, firms, "/companies", "kowalski") == ["Kowalski i Syn"]
    assert names(api, firms, "/companies", "KOWAL") == ["Kowalski i Syn"]
    assert names(api, firms, "/companies", "zolw") == ["Żółw sp. z o.o."]
    assert names(api, firms, "/companies", "ŻÓŁW") == ["Żółw sp. z o.o."]
    assert names(api, firms, "/companies", "lodzka") == ["Łódzka Fabryka Mebli"]
    assert names(api, firms, "/companies", "gdansk") == sorted(
        ["Kowalski i Syn", "Żółw sp. z o.o.", "Łódzka Fabryka Mebli", "Nowak", "Rabat 50%", "Rabat 500"]
    )


def test_every_word_must_be_found_and_wildcards_are_plain_text(api, admin, firms):
    api.post("/persons", admin, json={"first_name": "Jan", "last_name": "Kowalski"})
    api.post("/persons", admin, json={"first_name": "Anna", "last_name": "Kowalska"})
    api.post("/persons", admin, json={"first_name": "Jan", "last_name": "Nowak"})

    assert names(api, admin, "/persons", "jan kowalski") == ["Kowalski"]
    assert names(api, admin, "/persons", "  kowalsk  ") == ["Kowalska", "Kowalski"]
    assert names(api, firms, "/companies", "50%") == ["Rabat 50%"]
    assert names(api, firms, "/companies", "_") == []
    assert names(api, firms, "/companies", "zółw nowak") == []


def test_the_panels_search_box_searches_the_same_way(app, api, firms):
    browser = AdminBrowser(app)
    browser.log_in(firms)

    page = browser.get("/admin/company/?search=zolw+sp").get_data(as_text=True)

    assert "Żółw sp. z o.o." in page
    assert "Kowalski i Syn" not in page


def test_folding_is_lower_case_without_accents():
    assert fold("Żółć Łódź ĘĄŚ Straße Ærø") == "zolc lodz eas strasse aero"
    assert fold(None) == ""


@pytest.mark.skipif(not on_postgres(), reason="the trigram indexes are PostgreSQL's")
def test_every_search_column_of_every_record_type_has_its_trigram_index_and_the_search_reads_it(app, api, admin):
    with app.app_context():
        indexes = {row[0] for row in db.session.execute(text("SELECT indexname FROM pg_indexes"))}
        types = list(app.extensions["opiekun.record_types"])
        assert len(types) >= 8
        for record_type in types:
            for column in record_type.search_columns:
                assert search_index_name(record_type.model.__tablename__, column) in indexes, (record_type.name, column)

        db.session.execute(insert(Company), [{"name": f"Firma {number}", "city": "Kraków"} for number in range(20_000)])
        db.session.execute(text("ANALYZE companies"))
        statement = filtered_records(app.extensions["opiekun.record_types"].get("company"), _Query(q="kowal")).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
        plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {statement}")))
        db.session.rollback()
    assert "ix_companies_search_name" in plan, plan
    assert "Seq Scan" not in plan, plan


class _Query:
    owner_id = None
    owner_status = None

    def __init__(self, q: str):
        self.q = q

    def field_filters(self) -> dict:
        return {}
