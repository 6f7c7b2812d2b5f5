"""A fresh install is ready to sell: ``opiekun init`` on a database without pipelines
creates the default sales pipeline, so the first deal needs no set-up; it never touches
pipelines a deployment already has."""

from __future__ import annotations

from opiekun.cli import cli
from opiekun.extensions import db
from opiekun.models import Pipeline


def init(app) -> str:
    result = app.test_cli_runner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_creates_the_default_pipeline_and_the_first_deal_needs_no_set_up(app, api, admin, seller):
    assert api.get("/pipelines", admin).get_json()["items"] == []
    assert api.post("/deals", seller, json={"name": "Pierwsza"}).status_code == 422, "no pipeline: refused"

    output = init(app)
    assert "default sales pipeline created: Sprzedaż (Nowa, Kwalifikacja, Oferta, Negocjacje, Decyzja)" in output
    [pipeline] = api.get("/pipelines", admin).get_json()["items"]
    assert [stage["name"] for stage in pipeline["stages"]] == [
        "Nowa",
        "Kwalifikacja",
        "Oferta",
        "Negocjacje",
        "Decyzja",
    ]

    deal = api.post("/deals", seller, json={"name": "Pierwsza"})
    assert deal.status_code == 201, deal.get_json()
    assert deal.get_json()["pipeline_id"] == pipeline["id"]


def test_init_again_keeps_a_renamed_or_replaced_pipeline(app, api, admin):
    init(app)
    [pipeline] = api.get("/pipelines", admin).get_json()["items"]
    with app.app_context():  # renamed, as an admin does in Administracja → Lejki sprzedaży
        db.session.get(Pipeline, pipeline["id"]).name = "Sprzedaż B2B"
        db.session.commit()

    assert "default sales pipeline" not in init(app)
    assert [item["name"] for item in api.get("/pipelines", admin).get_json()["items"]] == ["Sprzedaż B2B"]
