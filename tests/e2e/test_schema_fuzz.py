"""schemathesis against the OpenAPI schema: no 5xx, and every answer as the schema says.

Bounded (a few examples per operation) so that it stays well under a minute. Requests go
through the tests' own client, so the app starts and stops once.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import structlog
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from tests.e2e.flows import spp_to, start
from tests.e2e.world import World, open_world

EXAMPLES = 8
EXCLUDED = [
    # Schema-valid data is refused for reasons no schema can say (an unknown id, a stage that
    # does not take it, a role): 404/409/403 are right answers, tested in the other files.
    checks.positive_data_acceptance,
    # 413 for a body past its limit is a refusal, which this check does not count as one.
    checks.negative_data_rejection,
    # It replays requests without our client; authentication is tested for every endpoint
    # and every role in test_authorization.py.
    checks.ignored_auth,
]


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for w in open_world(tmp_path_factory.mktemp("fuzz")):
        spp_to(w, start(w), "peer_review")
        yield w


@pytest.fixture(scope="module")
def api_schema(fuzz_world: World) -> BaseSchema:
    # The coverage phase makes every boundary case of every operation whatever max_examples
    # says; the examples and fuzzing phases, bounded, are what fits in CI's minute.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_dict(fuzz_world.app.openapi_schema.to_schema(), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def send(w: World, case: schemathesis.Case) -> Any:
    kw = case.as_transport_kwargs(base_url="http://testserver.local", headers=w.auth("admin"))
    data = kw.pop("data", None)
    if isinstance(data, bytes | str):
        kw["content"] = data
    elif data is not None:
        kw["data"] = data
    for unused in ("verify", "timeout", "allow_redirects", "cookies"):
        kw.pop(unused, None)
    if kw.get("files"):  # requests takes any value as a part; httpx wants text or bytes
        kw["files"] = [(name, _part(value)) for name, value in _items(kw["files"])]
    return w.client.request(**kw)


def _items(files: Any) -> list[tuple[str, Any]]:
    return list(files.items()) if isinstance(files, dict) else list(files)


def _part(value: Any) -> Any:
    if isinstance(value, tuple):
        name, content, *rest = value
        if not isinstance(content, bytes | str):
            content = str(content).encode()
        return (name, content, *rest)
    return value if isinstance(value, bytes | str) else str(value).encode()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, fuzz_world: World) -> None:
    with structlog.testing.capture_logs() as logs:
        response = send(fuzz_world, case)
    errors = ["".join(traceback.format_exception(e["exc_info"])) for e in logs if e.get("exc_info")]
    assert response.status_code < 500, errors or response.text[:500]
    response.request.read()  # a streamed (multipart) request, for the checks to look at
    case.validate_response(response, excluded_checks=EXCLUDED)
