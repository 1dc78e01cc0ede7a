"""Schemathesis against the node's own OpenAPI document: no 5xx, no answer the document denies.

Every operation of GET /openapi.json (the TAXII endpoints, the JSON API, federation, metrics) is
called in-process with generated requests, on each store, by an analyst whose organization owns
a bubble with content of every kind (tests/fuzz_world.py). Path parameters are drawn from the
generated values and from ids that exist, so that requests get past the 404s into real code.

TRUSTBUBBLE_FUZZ_EXAMPLES sets the generated requests per operation (tests/fuzzing.py): 10 in CI,
more before a release (docs/testing.md). Schemathesis adds its own examples and boundary cases.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.conftest import Member
from tests.fuzz_world import INDICATOR, FuzzWorld, build
from tests.fuzzing import EXAMPLES, scaled
from trustbubble.api.app import create_app
from trustbubble.api.taxii.filters import encode_next
from trustbubble.settings import Settings
from trustbubble.store.database import Database

# What the document promises. Left out on purpose: positive_data_acceptance and
# negative_data_rejection, which hold an API to its schema types alone; ours checks values in
# the domain (a norm letter, a country code) and answers 400, and ignores unknown query
# parameters as TAXII 2.1 asks (docs/taxii.md).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    allow_header_conformance,
]

# Server-sent events never end: a generated call would wait for its time-out. They are tested
# in tests/test_exercise_live.py.
STREAMS = "/api/v1/exercises/{session_id}/events"


def _settings(db: Database | None = None) -> Settings:
    return Settings(
        database_url=db.url if db else "sqlite://",
        max_content_length=1024 * 1024,
        secret_key="fuzzing-secret-key-fuzzing-secret-key",
    )


def _document() -> dict[str, Any]:
    """The document as the node serves it. Outside `with`, the app does not start: no store is
    opened and no node key made to read it."""
    client = TestClient(create_app(_settings()))
    try:
        document: dict[str, Any] = client.get("/openapi.json").json()
    finally:
        client.close()
    return document


schema = schemathesis.openapi.from_dict(_document()).exclude(path=STREAMS)

# The ids of the world under test, for the hook below; set by the `node` fixture.
aims: dict[str, list[str]] = {}


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Each path parameter is the generated value or, as often, one that exists."""
    drawn = {
        name: st.one_of(st.just(value), st.sampled_from(aims[name]))
        if aims.get(name)
        else st.just(value)
        for name, value in (path_parameters or {}).items()
    }
    return st.fixed_dictionaries(drawn)


def _aim(case: schemathesis.Case[Any]) -> None:
    """Schemathesis's examples and boundary cases vary one parameter at a time, with made-up
    path ids that would stop every one at a 404: the path parameters a case does not vary are
    set to ids that exist. (Generated cases draw them in the hook above.)"""
    phase = case.meta.phase if case.meta else None
    if phase is None or phase.name == "fuzzing":
        return
    varied = getattr(phase.data, "parameter", None)
    if getattr(phase.data, "parameter_location", None) != "path":
        varied = None
    for name in case.path_parameters or {}:
        if name != varied and aims.get(name):
            case.path_parameters[name] = aims[name][0]


@pytest.fixture
def node(db: Database) -> Iterator[tuple[FastAPI, FuzzWorld]]:
    world = build(db)
    aims.update(world.ids)
    app = create_app(_settings(db), db)
    yield app, world
    aims.clear()
    # Schemathesis started the app's lifespan on its first call; stop it with this store.
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        # One node per operation, which the generated requests change as a client would.
        HealthCheck.function_scoped_fixture,
    ],
)
def test_the_api_keeps_to_its_document(
    case: schemathesis.Case[Any], node: tuple[FastAPI, FuzzWorld]
) -> None:
    app, world = node
    _aim(case)
    response = case.call(app=app, headers=world.headers)
    case.validate_response(response, checks=CHECKS, headers=world.headers)


# -- what Schemathesis does not make up: credentials, TAXII's opaque and boundary values ------

FUZZ = settings(
    max_examples=scaled(50),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Header values as a server reads them: latin-1, no control characters.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
)
TIMESTAMPS = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.sampled_from(["9999-12-31T23:59:60Z", "0001-01-01T00:00:00Z", "2026-02-29T00:00:00Z"]),
    st.text(max_size=30),
)
# With the ends of the types, as Schemathesis's boundary cases have them.
NUMBERS = st.one_of(
    st.integers().map(str),
    st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**30]).map(str),
    st.text(max_size=20),
)
DAYS = st.one_of(
    st.dates().map(str), st.sampled_from(["0001-01-01", "9999-12-31"]), st.text(max_size=12)
)


@FUZZ
@given(
    st.sampled_from(["Basic", "Bearer", "Token", "Digest", "basic", ""]),
    HEADER_TEXT | st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()),
)
def test_any_authorization_header_is_a_caller_or_a_401(
    client: TestClient, scheme: str, value: str
) -> None:
    header = f"{scheme} {value}".strip().encode("latin-1")
    answer = client.get("/taxii2/bubbles/collections/", headers=[(b"authorization", header)])
    assert answer.status_code in (200, 401, 429), answer.text


@FUZZ
@given(
    st.one_of(st.integers().map(encode_next), st.text(max_size=20), st.just(encode_next(2**64))),
    TIMESTAMPS,
    NUMBERS,
    st.lists(TIMESTAMPS | st.sampled_from(["first", "last", "all"]), max_size=3).map(",".join),
    st.sampled_from(["objects/", "manifest/", f"objects/{INDICATOR}/versions/"]),
)
def test_taxii_filters_of_any_value_are_read_or_refused(
    client: TestClient,
    member: Member,
    after: str,
    added_after: str,
    limit: str,
    versions: str,
    resource: str,
) -> None:
    collection = member.objects_url.removesuffix("objects/")
    for name, value in (
        ("next", after),
        ("added_after", added_after),
        ("limit", limit),
        ("match[version]", versions),
    ):
        answer = client.get(collection + resource, params={name: value}, headers=member.headers)
        assert answer.status_code in (200, 400, 404), f"{name}={value!r}: {answer.text}"


@FUZZ
@given(DAYS, DAYS, NUMBERS)
def test_days_and_numbers_of_the_json_api_are_read_or_refused(
    client: TestClient, member: Member, since: str, until: str, number: str
) -> None:
    bubble = f"/api/v1/bubbles/{member.bubble_id}"
    for path, params in (
        ("/api/v1/observatory", {"since": since, "until": until}),
        (f"{bubble}/observatory", {"since": since, "until": until}),
        ("/api/v1/incidents", {"since": since, "until": until, "offset": number}),
        (f"{bubble}/objects", {"since": since, "until": until, "before": number}),
    ):
        answer = client.get(path, params=params, headers=member.headers)
        assert answer.status_code in (200, 400), f"{path} {params}: {answer.text}"
