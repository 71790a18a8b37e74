"""The operators' console against strangers and against operators of another clinic,
checked on the full Redis picture: a refused request changes nothing at all.

(tests/integration/test_console.py covers the console's own rules: sign-in, roles, CSRF,
masking; these tests add the state check and the clinic-scoped admin.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from notifier.names import INTAKE_QUEUE
from notifier.web.app import create_app
from notifier.web.console.passwords import hash_password
from tests.browser.console_seed import (
    ACCOUNTS,
    OPTED_OUT_NUMBER,
    PATIENT_DATA,
    PLATEAU_REFERENCE,
    ROSEMONT_REFERENCE,
    Account,
    console_settings,
    seed,
)
from tests.integration.conftest import Gateway, gateway, gateway_options
from tests.integration.test_console import Console
from tests.security.conftest import redis_picture

__all__ = ["gateway", "gateway_options"]  # the fixtures, used below

# An admin of one clinic: no more power than that clinic's viewer.
PLATEAU_ADMIN = Account("paule", "admin", "plateau", "paule-plateau-admin-password")


def _operators() -> str:
    return ";".join(f"{a.name}:{a.role}:{a.location or '*'}:{hash_password(a.password)}"
                    for a in (*ACCOUNTS, PLATEAU_ADMIN))


@pytest.fixture
def console(gateway: Gateway) -> Iterator[Console]:
    seed(gateway)
    app = create_app(console_settings(gateway, operators=_operators()), redis=gateway.client,
                     clock=gateway.clock)
    with TestClient(app) as http:
        yield Console(gateway, http)


def _console_routes(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _console_routes(inner.routes)
        elif getattr(route, "path", "").startswith("/console"):
            yield from ((route.path, method) for method in getattr(route, "methods", ()))


def test_without_a_session_no_console_route_changes_anything(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    routes = sorted(set(_console_routes(console.http.app.routes)))  # type: ignore[attr-defined]
    assert len(routes) >= 10
    form = {"queue": INTAKE_QUEUE, "id": "x", "reason": "r", "number": OPTED_OUT_NUMBER,
            "channel": "sms", "action": "in", "token": "x", "name": "alice", "password": "x",
            "csrf": "forged"}
    before = redis_picture(console.gateway.client)

    for path, method in routes:
        answer = console.http.request(method, path, data=form if method == "POST" else None,
                                      follow_redirects=False)
        if method == "GET" and path in ("/console/sign-in", "/console/static/{name}"):
            continue  # the sign-in form and its files
        if answer.status_code == 303:
            assert answer.headers["location"].startswith("/console/sign-in"), (method, path)
        else:
            assert answer.status_code in (401, 403), (method, path, answer.status_code)
        assert ROSEMONT_REFERENCE not in answer.text and PLATEAU_REFERENCE not in answer.text

    assert redis_picture(console.gateway.client) == before
    for secret in PATIENT_DATA:
        assert secret not in caplog.text


def test_a_clinic_admin_cannot_read_another_clinic_nor_act_on_shared_state(
    console: Console,
) -> None:
    assert console.sign_in(PLATEAU_ADMIN).status_code == 303
    own = console.http.get(f"/console/story?reference={PLATEAU_REFERENCE}")
    assert own.status_code == 200  # the control: the session works
    before = redis_picture(console.gateway.client)

    other = console.http.get(f"/console/story?reference={ROSEMONT_REFERENCE}")
    pages = {path: console.http.get(path).status_code
             for path in ("/console/dead-letters", "/console/opt-outs", "/console/integrators")}
    actions = {
        path: console.post(path, data, page="/console/story").status_code
        for path, data in (
            ("/console/dead-letters/requeue-all", {"queue": INTAKE_QUEUE}),
            ("/console/dead-letters/discard", {"queue": INTAKE_QUEUE, "id": "x",
                                               "reason": "r"}),
            ("/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER}),
            ("/console/opt-outs/change", {"token": "x", "channel": "sms", "action": "in",
                                          "reason": "r"}),
        )
    }
    api = console.http.get("/console/api/overview").json()

    assert other.status_code == 404
    assert pages == dict.fromkeys(pages, 403)
    assert actions == dict.fromkeys(actions, 403)
    assert set(api["deliveries"]["by_location"]) <= {"plateau"} and "health" not in api
    assert redis_picture(console.gateway.client) == before
