"""Fixtures of the offboarding tests (the all-plugins app of ``tests/conftest.py``: a
departed user's items come from every plugin)."""

from __future__ import annotations

import pytest


@pytest.fixture
def team(api):
    """Three active colleagues who can share a departed user's items."""
    return [api.create_user(f"team{n}@firma.example", name=f"Zespół {n}") for n in range(3)]
