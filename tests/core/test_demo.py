"""The demo data (``opiekun demo``): the core's records written set-based, a chunk at a
time, and announced to the change stream as bulk creates; loaded once; plugins build on
a bounded sample of them."""

from __future__ import annotations

from sqlalchemy import func, select

from opiekun import demo
from opiekun.cli import cli
from opiekun.demo import DEMO_TEAM, LOADED_PARTS, load_demo
from opiekun.extensions import db
from opiekun.models import Company, Deal, Invoice, Lead, Offer, Person, User
from tests.support.statements import statements_sent

COMPANIES = 50
RECORD_MODELS = (Company, Person, Deal, Offer, Invoice, Lead)


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def record_counts() -> dict[str, int]:
    return {model.__object_type__: count(model) for model in RECORD_MODELS}


def recorded_counts() -> dict[str, int]:
    """Per core record type, how many records the history says the demo created."""
    from opiekun.plugins.audit.entries import ENTRIES

    rows = db.session.execute(
        select(ENTRIES.c.object_type, func.count(func.distinct(ENTRIES.c.object_id)))
        .where(ENTRIES.c.operation == "create", ENTRIES.c.job == "demo")
        .group_by(ENTRIES.c.object_type)
    )
    recorded = dict(rows.all())
    return {model.__object_type__: recorded.get(model.__object_type__, 0) for model in RECORD_MODELS}


def test_the_demo_writes_every_record_with_its_owner_and_history_once(app_context):
    assert load_demo(companies=COMPANIES)[0] == "core"
    counts = record_counts()
    assert counts["company"] == counts["deal"] == COMPANIES
    assert COMPANIES <= counts["person"] <= 3 * COMPANIES
    assert counts["offer"] == COMPANIES // 2
    assert counts["invoice"] == count(Deal, Deal.status == "won")
    assert counts["lead"] == COMPANIES // 3 + 1
    team = set(db.session.scalars(select(User.id).where(User.email.in_([email for email, *_ in DEMO_TEAM]))))
    for model in RECORD_MODELS:
        assert set(db.session.scalars(select(model.owner_id).distinct())) <= team, model
    assert recorded_counts() == counts

    assert load_demo(companies=COMPANIES) == []
    assert record_counts() == counts


def test_every_demo_record_has_its_first_owner_period(app_context):
    from opiekun.plugins.ownership.periods import assignments_table

    load_demo(companies=COMPANIES)
    for model in RECORD_MODELS:
        periods = select(assignments_table.c.object_id).where(
            assignments_table.c.object_type == model.__object_type__,
            assignments_table.c.kind == "primary",
            assignments_table.c.user_id == model.owner_id,
        )
        assert count(model, model.id.not_in(periods)) == 0, model


def test_new_records_first_periods_are_written_without_looking_for_earlier_ones(app, app_context, monkeypatch):
    """New records have no periods to end: each chunk only inserts its first periods. (Ending
    periods "in force" among ten thousand new ids, planned on statistics from before the
    load, read every period begun that day: a million companies slowed with every chunk.)"""
    monkeypatch.setattr(demo, "CHUNK_SIZE", 20)
    with statements_sent(app) as sent:
        load_demo(companies=COMPANIES)

    statements = [" ".join(statement.split()) for statement in sent]
    on_periods = [statement for statement in statements if "ownership_assignments" in statement.split(" WHERE ")[0]]
    assert any(statement.startswith("INSERT INTO ownership_assignments") for statement in on_periods)
    assert not [statement for statement in on_periods if statement.startswith(("DELETE", "UPDATE"))]


def test_the_demo_goes_chunk_by_chunk_and_tells_its_progress(app_context, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_SIZE", 20)
    told = []
    load_demo(companies=COMPANIES, progress=lambda *step: told.append(step))
    assert told == [("companies", 20, 50), ("companies", 40, 50), ("companies", 50, 50), ("leads", 17, 17)]
    counts = record_counts()
    assert counts["company"] == COMPANIES and counts["lead"] == 17
    assert recorded_counts() == counts, "each chunk's records are announced once"


def test_the_command_prints_the_progress(app):
    result = app.test_cli_runner().invoke(cli, ["demo", "--companies", "5"])
    assert result.exit_code == 0, result.output
    assert "companies 5/5\nleads 2/2\ndemo data loaded: core" in result.output


def test_plugins_get_the_team_the_pipelines_and_a_sample_of_the_records(app_context, monkeypatch):
    monkeypatch.setattr(demo, "SAMPLE_SIZE", 10)
    plugins = app_context.extensions["opiekun.plugins"]
    contexts = []
    monkeypatch.setattr(plugins, "demo_data", lambda name, context: contexts.append(context))
    load_demo(companies=COMPANIES)
    context = contexts[0]
    assert [user.email for user in context.users] == [email for email, *_ in DEMO_TEAM]
    assert [pipeline.name for pipeline in context.pipelines] == ["Sprzedaż", "Serwis"]
    first_companies = list(db.session.scalars(select(Company.id).order_by(Company.id).limit(10)))
    assert [company.id for company in context.companies] == first_companies
    assert len(context.persons) == len(context.deals) == 10

    contexts.clear()
    LOADED_PARTS.setting(plugins.names[0], default=False).write(None)  # as if switched on later
    assert load_demo(companies=COMPANIES) == [plugins.names[0]]
    assert [company.id for company in contexts[0].companies] == first_companies, "the core's part is not loaded again"
