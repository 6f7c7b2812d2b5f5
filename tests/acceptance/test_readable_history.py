"""The change history reads as Polish (audit + ownership + tasks): operations in words,
field labels and values translated, yes/no instead of True/False, no empty lists."""

from __future__ import annotations

import html
import re

from opiekun.testing.clients import logged_in


def page_text(browser, url: str) -> str:
    raw = browser.get(url).get_data(as_text=True)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def test_an_owner_period_and_a_task_read_as_polish_in_the_history(app, api, admin, manager, seller, other_seller):
    firm = api.post("/companies", seller, json={"name": "Agro-Tech"}).get_json()
    deputy = api.post(
        "/ownership/assignments",
        manager,
        json={
            "object_type": "company",
            "object_ids": [firm["id"]],
            "user_id": other_seller["id"],
            "kind": "deputy",
            "access": "read",
        },
    )
    assert deputy.status_code == 201, deputy.get_json()
    types = {item["name"]: item["id"] for item in api.get("/task-types", seller).get_json()["items"]}
    task = api.post("/tasks", seller, json={"title": "Telefon", "type_id": types["Telefon"], "private": True})
    assert task.status_code == 201, task.get_json()

    browser = logged_in(app, admin)
    owner_history = page_text(browser, f"/admin/audit/?object_type=company&object_id={firm['id']}")
    assert "przypisanie opiekuna" in owner_history
    assert "zastępca" in owner_history and "tylko do odczytu" in owner_history
    assert "Od dnia" in owner_history and "Autor" in owner_history
    for english in ("owner assigned", "Valid from", "Created by", "deputy", "True", "False"):
        assert english not in owner_history, english

    task_history = page_text(browser, f"/admin/audit/?object_type=task&object_id={task.get_json()['id']}")
    assert "Prywatne: — → tak" in re.sub(r"\s+:", ":", re.sub(r"\s+", " ", task_history))
    for english in ("True", "False", "[]", "Reminders", "Participants"):
        assert english not in task_history, english
