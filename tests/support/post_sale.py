"""A post-sale template on a pipeline (tasks plugin), for stories about closing deals."""

from __future__ import annotations


def thank_you_after_winning(api, admin, pipeline: dict) -> None:
    """Winning a deal of ``pipeline`` creates the task "Podziękowanie" for its owner, next day."""
    types = {item["name"]: item for item in api.get("/task-types", admin).get_json()["items"]}
    template = api.post(
        "/task-templates",
        admin,
        json={
            "name": "Po wygranej",
            "object_types": ["deal"],
            "items": [
                {
                    "title": "Podziękowanie",
                    "type_id": types["E-mail"]["id"],
                    "delay_days": 1,
                    "responsible": "record_owner",
                }
            ],
        },
    )
    assert template.status_code == 201, template.get_json()
    rule = api.post(
        "/post-sale-templates",
        admin,
        json={"pipeline_id": pipeline["id"], "outcome": "won", "template_id": template.get_json()["id"]},
    )
    assert rule.status_code == 201, rule.get_json()


def tasks_of_deal(api, user, deal_id: int) -> list[str]:
    listed = api.get("/tasks", user, query_string={"object_type": "deal", "object_id": deal_id}).get_json()
    return [task["title"] for task in listed["items"]]
