"""Schemathesis throws generated requests — valid and invalid — at every operation of
``/api/v1/openapi.json``, authenticated as an admin; no answer may be a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

MAX_EXAMPLES = 25


@pytest.fixture
def admin_headers(api, admin, pipeline):
    """An admin's token; a few records so that generated ids can hit existing rows."""
    for number in range(3):
        api.post("/companies", admin, json={"name": f"Firma {number}"})
        api.post("/deals", admin, json={"name": f"Umowa {number}"})
    return api.headers(admin)


def server_errors_of(operation, mode: GenerationMode, headers: dict) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{operation.label} [{mode.value}] -> {response.status_code}: "
                f"path={case.path_parameters} query={case.query} body={case.body!r:.300}"
            )

    call()
    return failures


@pytest.mark.fuzz
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_generated_request_makes_the_api_fail(app, admin_headers, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = [failure for operation in operations for failure in server_errors_of(operation, mode, admin_headers)]
    assert failures == [], "\n".join(failures[:20])
