"""A sales team works with companies, persons, leads, deals, offers and invoices over the API."""

import pytest

RECORD_SAMPLES = {
    "companies": {"name": "Agrotech sp. z o.o.", "city": "Poznań"},
    "persons": {"first_name": "Anna", "last_name": "Nowak", "email": "anna@agrotech.example"},
    "leads": {"name": "Zapytanie z targów", "source": "targi"},
    "offers": {"name": "Oferta 1/2026", "status": "draft", "value": "1200.50"},
    "invoices": {"number": "FV/2026/0001", "amount": "999.99"},
}


@pytest.mark.parametrize("path", RECORD_SAMPLES)
def test_a_user_creates_reads_changes_and_deletes_a_record(api, seller, path):
    created = api.post(f"/{path}", seller, json=RECORD_SAMPLES[path])
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["owner_id"] == seller["id"], "the creator owns a new record by default"
    assert record["created_by_id"] == seller["id"]
    assert record["created_at"].endswith("Z") or "+00:00" in record["created_at"]

    fetched = api.get(f"/{path}/{record['id']}", seller)
    assert fetched.status_code == 200 and fetched.get_json() == record

    listed = api.get(f"/{path}", seller).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == record["id"]
    assert listed["page"] == 1 and listed["per_page"] == 50

    assert api.delete(f"/{path}/{record['id']}", seller).status_code == 204
    assert api.get(f"/{path}/{record['id']}", seller).status_code == 404


def test_owner_filters_find_records_without_owner_and_of_departed_users(api, admin, seller, other_seller):
    mine = api.post("/companies", seller, json={"name": "Moja firma"}).get_json()
    orphan = api.post("/companies", seller, json={"name": "Bez opiekuna", "owner_id": None}).get_json()
    theirs = api.post("/companies", other_seller, json={"name": "Firma Olgi"}).get_json()
    assert orphan["owner_id"] is None

    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200

    def names(query):
        response = api.get(f"/companies?{query}", admin)
        assert response.status_code == 200, response.get_json()
        return {item["name"] for item in response.get_json()["items"]}

    assert names(f"owner_id={seller['id']}") == {mine["name"]}
    assert names("owner_id=none") == {orphan["name"]}
    assert names("owner_status=departed") == {theirs["name"]}
    assert names("q=opiekun") == {orphan["name"]}


def test_lists_paginate(api, seller):
    for number in range(7):
        api.post("/companies", seller, json={"name": f"Firma {number}"})
    page = api.get("/companies?per_page=3&page=3&sort=name", seller).get_json()
    assert page["total"] == 7 and page["page"] == 3 and page["per_page"] == 3
    assert [item["name"] for item in page["items"]] == ["Firma 6"]
    assert api.get("/companies?per_page=501", seller).status_code == 422


def test_deal_moves_through_stages_and_is_won(api, seller, pipeline):
    company = api.post("/companies", seller, json={"name": "Klient"}).get_json()
    deal = api.post(
        "/deals", seller, json={"name": "Wdrożenie", "company_id": company["id"], "value": "15000"}
    ).get_json()
    assert deal["pipeline_id"] == pipeline["id"] and deal["stage"] == "Kontakt" and deal["status"] == "open"

    moved = api.patch(f"/deals/{deal['id']}", seller, json={"stage": "Negocjacje"})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "Negocjacje"

    won = api.post(f"/deals/{deal['id']}/win", seller)
    assert won.status_code == 200 and won.get_json()["status"] == "won"
    again = api.post(f"/deals/{deal['id']}/lose", seller, json={"reason": "cena"})
    assert again.status_code == 409
    assert api.get(f"/deals/{deal['id']}", seller).get_json()["status"] == "won"


def test_a_lost_deal_keeps_its_reason(api, seller, pipeline):
    deal = api.post("/deals", seller, json={"name": "Licencje"}).get_json()
    lost = api.post(f"/deals/{deal['id']}/lose", seller, json={"reason": "Wybrali konkurencję"}).get_json()
    assert lost["status"] == "lost" and lost["lost_reason"] == "Wybrali konkurencję"
