"""The HTTP API fuzzed from its own OpenAPI schema with schemathesis, against the real `bot.py serve`: no 5xx, and
every response matches the schema, for public callers and for staff. Examples are bounded per operation."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.channels.conftest import STAFF_TOKEN

EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {STAFF_TOKEN}"}], ids=["public", "staff"])
def test_no_request_gets_a_server_error_or_an_answer_off_its_schema(web_server, headers):
    schema = schemathesis.openapi.from_url(f"{web_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/sources", "/api/clause", "/api/tasks", "/healthz"}
    for operation in operations:  # one bounded hypothesis run per operation (the pytest plugin does the same)
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(base_url=web_server.url, headers=headers, checks=CHECKS)

        call()
