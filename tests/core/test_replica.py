"""Reports on a read replica (issue 20): with ``OPIEKUN_DATABASE_REPLICA_URL``, the history
list, its Excel export, the ownership portfolio and the start page's counts read from a
real PostgreSQL streaming replica (``pg_basebackup`` on loopback) while the primary takes
the writes; when the replica lags beyond ``OPIEKUN_DATABASE_REPLICA_MAX_LAG`` or does not
answer, the same reads go to the primary.

How the test tells which server answered: the replica's replay is paused, then a company
is renamed on the primary. Its history entry exists only on the primary, so a list without
it was read from the replica."""

from __future__ import annotations

import io
import re
import time

import pytest
from openpyxl import load_workbook

from opiekun.replica import replica_lag
from opiekun.testing.apps import build_app, close_app, on_postgres
from opiekun.testing.clients import ApiClient, logged_in
from tests.support.replica import server_programs, streaming_pair

pytestmark = pytest.mark.skipif(
    not on_postgres() or server_programs() is None, reason="needs PostgreSQL and its server programs"
)


def psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(scope="module")
def pair():
    with streaming_pair() as streaming:
        yield streaming


@pytest.fixture
def replicated(pair, tmp_path):
    primary_url, replica_url = pair.new_database()
    app = build_app(
        tmp_path,
        primary_url,
        plugins=("ownership", "audit"),
        database_replica_url=psycopg(replica_url),
        database_replica_max_lag=3600.0,
    )
    yield app
    close_app(app)


def history_names(api, admin) -> list[str]:
    answer = api.get("/audit", admin, query_string={"object_type": "company", "per_page": 100})
    assert answer.status_code == 200, answer.get_json()
    return sorted(entry["object_name"] for entry in answer.get_json()["items"])


def exported_names(api, admin) -> list[str]:
    answer = api.get("/audit/export.xlsx", admin, query_string={"object_type": "company"})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return sorted(row[header.index("Record")] for row in rows)


def my_companies_on_the_start_page(app, admin) -> int:
    page = logged_in(app, admin).text("/admin/")
    return int(re.search(r'data-figure="Firmy">\s*<div[^>]*>\s*<a[^>]*>(\d+)</a>', page).group(1))


def test_reports_read_the_replica_while_the_primary_takes_writes_and_fall_back_when_it_lags(pair, replicated):
    api = ApiClient(replicated)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    company = api.post("/companies", admin, json={"name": "Replika-Bud"}).get_json()
    pair.wait_until_caught_up()
    assert history_names(api, admin) == ["Replika-Bud"]

    pair.pause_replay()
    renamed = api.patch(f"/companies/{company['id']}", admin, json={"name": "Primar-Bud"})
    assert renamed.status_code == 200, "the primary takes the write while the replica stands still"
    assert api.get(f"/companies/{company['id']}", admin).get_json()["name"] == "Primar-Bud", "records: the primary"
    assert api.post("/companies", admin, json={"name": "Nowa-Bud"}).status_code == 201

    assert history_names(api, admin) == ["Replika-Bud"], "the history list was read from the replica"
    assert exported_names(api, admin) == ["Replika-Bud"], "so was the export"
    portfolio = api.get("/ownership/portfolio", admin, query_string={"user_id": admin["id"]}).get_json()
    assert [item["object_name"] for item in portfolio["items"]] == ["Replika-Bud"], "and the portfolio"
    assert my_companies_on_the_start_page(replicated, admin) == 1, "and the start page's counts"

    replicated.config["DATABASE_REPLICA_MAX_LAG"] = 0.5
    deadline = time.monotonic() + 10
    with replicated.app_context():
        while (replica_lag() or 0) <= 0.5:
            assert time.monotonic() < deadline, "the paused replica did not fall behind"
            time.sleep(0.1)
    everything = ["Nowa-Bud", "Primar-Bud", "Replika-Bud"]
    assert history_names(api, admin) == everything, "too far behind: the primary answered"
    assert exported_names(api, admin) == everything
    assert my_companies_on_the_start_page(replicated, admin) == 2

    pair.resume_replay()
    pair.wait_until_caught_up()
    replicated.config["DATABASE_REPLICA_MAX_LAG"] = 10
    with replicated.app_context():
        assert replica_lag() == 0
    assert history_names(api, admin) == everything, "caught up: the replica answers again"


def test_reports_read_the_primary_when_the_replica_is_down(pair, replicated):
    api = ApiClient(replicated)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    api.post("/companies", admin, json={"name": "Awaria-Bud"})
    pair.stop_replica()

    assert history_names(api, admin) == ["Awaria-Bud"]
    assert exported_names(api, admin) == ["Awaria-Bud"]
