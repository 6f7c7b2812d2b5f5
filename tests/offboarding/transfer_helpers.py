"""Driving offboarding over the API in the tests: depart a user, start a transfer and wait
for it, read who owns what."""

from __future__ import annotations

import time

TRANSFERS = "/offboarding/transfers"
FINISHED = ("done", "failed", "undone")


def created(response) -> dict:
    """The JSON of a successful answer (200 or 201)."""
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def task_type_id(api, user) -> int:
    """The first task type's id."""
    return api.get("/task-types", user).get_json()["items"][0]["id"]


def depart(api, admin, user) -> None:
    """Mark ``user`` departed."""
    created(api.patch(f"/users/{user['id']}", admin, json={"status": "departed"}))


def owners(api, admin, path: str, ids: list[int]) -> list[int | None]:
    """Who owns (is responsible for, for tasks) each record of ``path``."""
    key = "responsible_id" if path == "/tasks" else "owner_id"
    return [created(api.get(f"{path}/{record_id}", admin))[key] for record_id in ids]


def wait_for(
    api, admin, transfer_id: int, until=lambda state: state["status"] in FINISHED, timeout: float = 30
) -> dict:
    """The transfer's state once ``until`` holds (by default: once it has finished)."""
    deadline = time.monotonic() + timeout
    while True:
        state = created(api.get(f"{TRANSFERS}/{transfer_id}", admin))
        if until(state):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.05)


def transfer(api, admin, body: dict) -> dict:
    """Start a transfer over the API and wait until it has finished."""
    response = api.post(TRANSFERS, admin, json=body)
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert started["status"] in ("queued", "running", "done")
    return wait_for(api, admin, started["id"])
