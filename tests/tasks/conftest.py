"""Fixtures of the tasks plugin's tests (the app, users and API client come from
``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def _task_type_ids(client, user) -> dict[str, int]:
    return {item["name"]: item["id"] for item in client.get("/task-types", user).get_json()["items"]}


@pytest.fixture
def task_type_ids() -> Callable[..., dict[str, int]]:
    """``task_type_ids(client, user)``: the task types' ids by name, as ``user`` lists them
    through ``client`` (the default types exist from the first listing)."""
    return _task_type_ids
