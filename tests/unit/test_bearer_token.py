"""The intake route reads its bearer token itself; it must read it as FastAPI's
``HTTPBearer``, which documents the scheme and guards the other token routes, would."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from notifier.web.auth import bearer, presented_token


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    return Request({"type": "http", "method": "POST", "path": "/v1/events", "headers": headers})


def as_http_bearer(authorization: str | None) -> bytes:
    credentials = asyncio.run(bearer(request(authorization)))
    return credentials.credentials.encode() if credentials else b""


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer  ", "Bearer abc", "bearer abc", "BEARER abc",
     "Bearer  abc  ", "Bearer\tabc", "Basic abc", " Bearer abc", "Bearer a b", "Bearerabc",
     "Bearer é"],
)
def test_the_token_is_read_as_http_bearer_reads_it(authorization: str | None) -> None:
    assert presented_token(request(authorization)) == as_http_bearer(authorization)


@given(st.text(alphabet=st.sampled_from("Bearer bEARER\t x-é"), max_size=20))
def test_any_header_is_read_as_http_bearer_reads_it(authorization: str) -> None:
    assert presented_token(request(authorization)) == as_http_bearer(authorization)
