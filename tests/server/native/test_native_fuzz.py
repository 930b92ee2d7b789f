"""Schemathesis against ``/api/v1``'s own OpenAPI schema: no input makes the server fail.

Every operation gets a bounded number of generated requests, fitting the
schema and breaking it, against a real server; the check is that none is
answered with a 5xx. Bounded (and derandomized) so it takes well under a
minute and fails the same way twice.
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from live_server import LiveServer
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

EXAMPLES_PER_OPERATION = 10


def test_no_generated_request_makes_the_server_fail(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json").include(
        path_regex=r"^/api/v1/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 24
    session = requests.Session()
    failures: list[str] = []
    sent: list[int] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                response = case.call_and_validate(session=session, checks=[not_a_server_error])
                sent.append(response.status_code)

            try:
                check()
            except Unsatisfiable:
                pass  # no schema-breaking input exists (e.g. only free-form string parameters)
            except Exception as exc:  # report every failing operation at once
                failures.append(f"{operation.label} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(sent) > 300 and all(status < 500 for status in sent)
