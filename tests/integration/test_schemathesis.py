"""Property-based API tests from our own OpenAPI document: no input yields a 5xx or a
response that breaks the documented schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shipflow.secrets_at_rest import KEY_VARIABLE, new_key


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_api_conforms_to_its_schema(app, brands, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, new_key())  # shops connected through the API need it
    operations = _operations(app)
    assert len(operations) >= 4

    @given(data=st.data())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(data):
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        case.headers = {**(case.headers or {}), **brands["a"]["headers"]}
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()
