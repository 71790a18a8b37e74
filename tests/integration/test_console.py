"""The operators' console over HTTP: sign-in, roles, clinic scope, CSRF, language, masking.

The app runs on the tests' own Redis, filled by :func:`tests.browser.console_seed.seed`
with real intake, real sends to the outbox and a dead letter made by a real worker.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Lang
from notifier.integrators.model import Endpoint, EndpointState
from notifier.local_redis import free_port
from notifier.names import INTAKE_QUEUE
from notifier.operations.dead_letters import list_dead, operator_actions
from notifier.responses import OpenQuestion
from notifier.store.callback_deliveries import CallbackDeliveries, Fate, delivery_name
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.responses import ResponseStore
from notifier.web.app import create_app
from notifier.web.console.known_browsers import KNOWN_COOKIE
from notifier.web.console.passwords import hash_password
from notifier.web.console.session import COOKIE
from notifier.web.console.throttle import PER_ADDRESS, PER_NAME
from tests.app_server import serving
from tests.browser.console_seed import (
    ALICE,
    OPTED_OUT_NUMBER,
    PLATEAU_REFERENCE,
    ROSEMONT_REFERENCE,
    SOPHIE,
    START,
    UNKNOWN_REFERENCE,
    VICTOR,
    Account,
    assert_masked,
    console_settings,
    operators_setting,
    seed,
)
from tests.factories import event
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import age_redis

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    gateway: Gateway
    http: TestClient

    def csrf(self, path: str = "/console/sign-in") -> str:
        match = _CSRF.search(self.http.get(path).text)
        assert match, f"no form token on {path}"
        return match[1]

    def sign_in(self, account: Account, password: str | None = None,
                next_path: str = "/console/") -> httpx.Response:
        return self.http.post("/console/sign-in", data={
            "csrf": self.csrf(), "name": account.name,
            "password": account.password if password is None else password,
            "next": next_path,
        }, follow_redirects=False)

    def post(self, path: str, data: dict[str, str], *, page: str) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf(page), **data},
                              follow_redirects=False)

    def dead_ids(self) -> list[str]:
        return [d.message_id for d in list_dead(self.gateway.client, self.gateway.settings)]


def make_console(gateway: Gateway, **overrides: object) -> Console:
    app = create_app(console_settings(gateway, **overrides), redis=gateway.client,
                     clock=gateway.clock)
    return Console(gateway, TestClient(app, headers={"Accept-Language": "fr-CA,fr;q=0.9"}))


@pytest.fixture
def console(gateway: Gateway) -> Iterator[Console]:
    seed(gateway)
    yield make_console(gateway)


# Without a session -----------------------------------------------------------------------

def test_pages_redirect_to_sign_in_and_the_api_answers_401(console: Console) -> None:
    page = console.http.get("/console/story?reference=0000000001", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == (
        "/console/sign-in?next=%2Fconsole%2Fstory%3Freference%3D0000000001")

    api = console.http.get("/console/api/overview")
    assert api.status_code == 401 and api.json()["error"] == "unauthorized"


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, including those of included routers (which FastAPI may wrap)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else [route]


def test_no_console_route_answers_without_a_session(console: Console) -> None:
    app = console.http.app
    routes = [(route.path, method) for route in _routes(app.routes)  # type: ignore[attr-defined]
              if getattr(route, "path", "").startswith("/console")
              for method in getattr(route, "methods", ())]
    assert len(routes) >= 10
    for path, method in routes:
        answer = console.http.request(method, path, follow_redirects=False)
        if path == "/console/sign-in":
            assert answer.status_code in (200, 403), (method, path)  # the form, or no token
            continue
        if path == "/console/static/{name}":  # the sign-in page's own files: none here
            assert answer.status_code == 404, (method, path)
            continue
        assert answer.status_code in (303, 401, 403), (method, path, answer.status_code)
        assert "alice" not in answer.text and "0000000001" not in answer.text


def _assert_console_headers(answer: httpx.Response, where: object) -> None:
    csp = answer.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
    assert "'unsafe-inline'" not in csp and "http" not in csp, where
    assert answer.headers.get("x-frame-options") == "DENY", where
    assert answer.headers.get("x-content-type-options") == "nosniff", where
    assert answer.headers.get("referrer-policy") == "same-origin", where


def test_every_console_answer_carries_the_security_headers(console: Console) -> None:
    app = console.http.app
    routes = [(route.path.replace("{name}", "console.css"), method)
              for route in _routes(app.routes)  # type: ignore[attr-defined]
              if getattr(route, "path", "").startswith("/console")
              for method in getattr(route, "methods", ())]
    extra = [("/console/no-such-page", "GET"), ("/console/sign-in", "DELETE"),
             ("/console", "GET"), ("/console/story?reference=12ab", "GET")]
    for signed_in in (False, True):
        if signed_in:
            console.sign_in(ALICE)
        for path, method in routes + extra:
            answer = console.http.request(method, path, follow_redirects=False)
            _assert_console_headers(answer, (signed_in, method, path, answer.status_code))
    # The pages' own forms still post with these headers (form-action 'self').
    assert console.post("/console/language", {"lang": "en"}, page="/console/").status_code == 303


def test_a_console_error_carries_the_security_headers_too(gateway: Gateway) -> None:
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    app = create_app(console_settings(gateway), redis=unreachable, clock=gateway.clock)
    console = Console(gateway, TestClient(app, raise_server_exceptions=False))

    answer = console.sign_in(ALICE)  # the sign-in page needs no Redis; signing in does

    assert answer.status_code == 500
    _assert_console_headers(answer, "500")


def test_console_pages_have_no_inline_script_or_style(console: Console) -> None:
    console.sign_in(ALICE)
    for path in ("/console/sign-in", "/console/", f"/console/story?reference={PLATEAU_REFERENCE}",
                 "/console/dead-letters", "/console/opt-outs", "/console/docs"):
        text = console.http.get(path).text
        assert "<style" not in text and " style=" not in text and "<script>" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path  # no onclick= and the like


def test_health_checks_need_no_session(console: Console) -> None:
    assert console.http.get("/healthz").status_code == 200


def test_outside_the_console_only_health_checks_and_webhooks_answer_a_stranger(
    console: Console,
) -> None:
    app = console.http.app
    routes = [(route.path, method) for route in _routes(app.routes)  # type: ignore[attr-defined]
              if not getattr(route, "path", "/console").startswith("/console")
              for method in getattr(route, "methods", ())]
    assert {("/openapi.json", "GET"), ("/docs", "GET"), ("/v1/events", "POST")} <= set(routes)
    for path, method in routes:
        answer = console.http.request(method, path, follow_redirects=False)
        if path in ("/healthz", "/readyz"):
            assert answer.status_code in (200, 503), path
        elif path.startswith("/v1/twilio/"):
            assert answer.status_code == 403, path  # their own signature check
        else:
            assert answer.status_code in (303, 401), (method, path, answer.status_code)
            assert "paths" not in answer.text and "0000000001" not in answer.text


_LOADS = re.compile(r'(?:src|href)="([^"]*)"')


def test_the_documentation_page_loads_everything_from_the_gateway(console: Console) -> None:
    console.sign_in(ALICE)
    page = console.http.get("/console/docs")
    assert page.status_code == 200

    loaded = _LOADS.findall(page.text)
    assert {"/console/docs/assets/swagger-ui-bundle.js", "/console/docs/assets/swagger-ui.css",
            "/console/static/docs.js"} <= set(loaded)
    assert all(url.startswith("/console/") for url in loaded), loaded  # no CDN
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    for url in loaded:
        answer = console.http.get(url)
        assert answer.status_code == 200 and answer.content, url
    bundle = console.http.get("/console/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text

    console.http.cookies.clear()  # Swagger UI's files are for operators only
    assert console.http.get("/console/docs/assets/swagger-ui-bundle.js",
                            follow_redirects=False).status_code == 303
    assert console.http.get("/console/docs/assets/..%2F..%2Fsettings.py").status_code == 404
    assert console.http.get("/console/static/console.css").status_code == 200  # sign-in's


def test_an_operator_reads_the_api_documentation_after_signing_in(console: Console) -> None:
    assert console.http.get("/docs", follow_redirects=False).headers["location"] == (
        "/console/docs")
    answer = console.http.get("/console/docs", follow_redirects=False)
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fdocs"

    signed = console.sign_in(ALICE, next_path="/console/docs")

    assert signed.headers["location"] == "/console/docs"
    page = console.http.get("/console/docs")
    assert page.status_code == 200 and "/console/openapi.json" in page.text
    schema = console.http.get("/console/openapi.json")
    assert schema.status_code == 200 and "/v1/events" in schema.json()["paths"]
    assert console.http.get("/openapi.json").status_code == 401  # that one takes the token


# Signing in ------------------------------------------------------------------------------

def test_sign_in_sets_a_safe_session_cookie_and_goes_where_asked(console: Console) -> None:
    answer = console.sign_in(ALICE, next_path="/console/dead-letters")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/dead-letters"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # http here; see the https test
    assert console.http.get("/console/dead-letters").status_code == 200


def test_the_cookie_is_secure_when_the_public_url_is_https(gateway: Gateway) -> None:
    console = make_console(gateway, public_base_url="https://gateway.example.org")
    assert "Secure" in console.sign_in(ALICE).headers["set-cookie"]


def test_sign_in_never_leaves_the_console(console: Console) -> None:
    answer = console.sign_in(ALICE, next_path="https://evil.example.org/")
    assert answer.headers["location"] == "/console/"
    answer = console.sign_in(ALICE, next_path="//evil.example.org/console/")
    assert answer.headers["location"] == "/console/"


def test_a_wrong_password_or_an_unknown_name_gets_the_same_refusal(console: Console) -> None:
    wrong = console.sign_in(ALICE, password="not-the-password")
    unknown = console.sign_in(Account("mallory", "admin", None, "whatever"))

    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Nom d’utilisateur ou mot de passe incorrect." in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "") or "alice" not in answer.text
    assert console.http.get("/console/", follow_redirects=False).status_code == 303


def test_an_unknown_name_costs_one_scrypt_like_a_wrong_password(
    console: Console, monkeypatch: pytest.MonkeyPatch,
) -> None:
    derivations: list[int] = []
    real_scrypt = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        derivations.append(kwargs["n"])
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    assert console.sign_in(Account("mallory", "admin", None, "whatever")).status_code == 401
    unknown = list(derivations)
    derivations.clear()
    assert console.sign_in(ALICE, password="not-the-password").status_code == 401

    # Even the process's first unknown name: one derivation at the same cost, no more.
    assert unknown == derivations and len(derivations) == 1


def _wrong_guesses(console: Console, accounts: list[Account]) -> list[int]:
    """One wrong password per account, each tried again once its wait has passed; the
    waits announced (in seconds)."""
    waits = []
    for account in accounts:
        answer = console.sign_in(account, password="guess")
        if answer.status_code == 429:
            waits.append(int(answer.headers["retry-after"]))
            console.gateway.clock.advance(dt.timedelta(seconds=waits[-1]))
            answer = console.sign_in(account, password="guess")
        assert answer.status_code == 401
    return waits


def test_failures_slow_the_name_down_but_never_lock_it(console: Console) -> None:
    for _ in range(3):  # three failures in a row are free
        assert console.sign_in(ALICE, password="guess").status_code == 401

    early = console.sign_in(ALICE)  # even the right password waits a moment...
    assert early.status_code == 429 and early.headers["retry-after"] == "1"
    assert "Trop de tentatives manquées. Réessayez dans 1 s." in early.text
    assert console.sign_in(VICTOR).status_code == 303  # other names do not wait
    console.http.cookies.clear()

    console.gateway.clock.advance(dt.timedelta(milliseconds=249))
    assert console.sign_in(ALICE).status_code == 429
    console.gateway.clock.advance(dt.timedelta(milliseconds=1))
    assert console.sign_in(ALICE).status_code == 303  # ...0.25 s, and no longer


def test_a_success_clears_the_names_failures(console: Console) -> None:
    for _ in range(PER_NAME.free):
        assert console.sign_in(ALICE, password="guess").status_code == 401
    console.gateway.clock.advance(PER_NAME.after(PER_NAME.free))
    assert console.sign_in(ALICE).status_code == 303
    console.http.cookies.clear()  # a stranger's browser: its attempts count for the name

    for _ in range(PER_NAME.free):
        assert console.sign_in(ALICE, password="guess").status_code == 401
    assert console.sign_in(ALICE, password="guess").status_code == 429


def test_a_browser_is_known_for_90_days_after_its_operator_signed_in(
    console: Console,
) -> None:
    answer = console.sign_in(ALICE)
    (known,) = [cookie for cookie in answer.headers.get_list("set-cookie")
                if cookie.startswith(f"{KNOWN_COOKIE}=")]
    assert f"Max-Age={90 * 24 * 3600};" in known and "Path=/console/sign-in" in known


def test_a_long_attack_on_a_name_leaves_its_operator_a_short_wait(console: Console) -> None:
    waits = _wrong_guesses(console, [ALICE] * 30)

    assert waits == sorted(waits) and max(waits) == 10  # the longest wait
    early = console.sign_in(ALICE)
    assert early.status_code == 429
    console.gateway.clock.advance(dt.timedelta(seconds=int(early.headers["retry-after"])))
    assert console.sign_in(ALICE).status_code == 303


def test_guessing_at_a_name_does_not_hold_back_its_operators_own_browser(
    console: Console,
) -> None:
    assert console.sign_in(ALICE).status_code == 303  # alice's browser, known from now on
    known = console.http.cookies.get(KNOWN_COOKIE)
    assert known
    console.post("/console/sign-out", {}, page="/console/")
    attacker = Console(console.gateway,
                       TestClient(console.http.app, client=("203.0.113.66", 50000)))

    _wrong_guesses(attacker, [ALICE] * 30)

    assert attacker.sign_in(ALICE).status_code == 429  # a stranger's browser waits
    assert console.sign_in(ALICE).status_code == 303  # alice's own does not
    # A known browser's own failures still slow it down.
    console.post("/console/sign-out", {}, page="/console/")
    for _ in range(PER_NAME.free):
        assert console.sign_in(ALICE, password="guess").status_code == 401
    assert console.sign_in(ALICE).status_code == 429
    # Its cookie is alice's: copied into the attacker's browser for victor, it does nothing.
    attacker.http.cookies.set(KNOWN_COOKIE, known, path="/console/sign-in")
    _wrong_guesses(attacker, [VICTOR] * 30)
    assert attacker.sign_in(VICTOR).status_code == 429


def _later(console: Console, by: dt.timedelta) -> None:
    age_redis(console.gateway.client, by)
    console.gateway.clock.advance(by)


def test_failures_are_forgotten_15_minutes_after_the_last_attempt(console: Console) -> None:
    for _ in range(PER_NAME.free):
        assert console.sign_in(ALICE, password="guess").status_code == 401
    _later(console, dt.timedelta(minutes=14))
    assert console.sign_in(ALICE, password="guess").status_code == 401  # its wait is over
    assert console.sign_in(ALICE).status_code == 429  # but its failures are remembered

    _later(console, dt.timedelta(minutes=15, seconds=1))

    for _ in range(PER_NAME.free):  # free attempts again, none waits
        assert console.sign_in(ALICE, password="guess").status_code == 401
    assert console.sign_in(ALICE).status_code == 429


def test_a_browser_is_known_for_90_days(console: Console) -> None:
    assert console.sign_in(ALICE).status_code == 303
    known = console.http.cookies.get(KNOWN_COOKIE)
    assert known
    console.post("/console/sign-out", {}, page="/console/")
    attacker = Console(console.gateway,
                       TestClient(console.http.app, client=("203.0.113.66", 50000)))
    console.gateway.clock.advance(dt.timedelta(days=90) - dt.timedelta(minutes=1))
    _wrong_guesses(attacker, [ALICE] * (PER_NAME.free + 1))
    assert console.sign_in(ALICE).status_code == 303  # known still, a minute before the end

    console.post("/console/sign-out", {}, page="/console/")
    console.http.cookies.delete(KNOWN_COOKIE)  # the browser kept the first one instead
    console.http.cookies.set(KNOWN_COOKIE, known, path="/console/sign-in")
    console.gateway.clock.advance(dt.timedelta(minutes=2))
    _wrong_guesses(attacker, [ALICE])
    assert console.sign_in(ALICE).status_code == 429  # a stranger's browser now


def test_failures_from_one_address_slow_it_down_but_lock_nobody_out(
    console: Console,
) -> None:
    strangers = [Account(f"mallory{n}", "admin", None, "x") for n in range(20)]
    waits = _wrong_guesses(console, strangers)
    assert len(waits) == 20 - 10  # ten failures from one address are free
    assert max(waits) <= PER_ADDRESS.cap.total_seconds()

    same_office = console.sign_in(VICTOR)
    assert same_office.status_code == 429
    elsewhere = TestClient(console.http.app, client=("198.51.100.7", 50000))
    assert Console(console.gateway, elsewhere).sign_in(VICTOR).status_code == 303
    console.gateway.clock.advance(
        dt.timedelta(seconds=int(same_office.headers["retry-after"])))
    assert console.sign_in(VICTOR).status_code == 303


@contextmanager
def _served_sign_in(
    gateway: Gateway,
) -> Iterator[tuple[httpx.Client, str, Callable[[str, str], int]]]:
    """The console on a real server: a browser that opened the sign-in form, its form
    token, and a way to post that form (name, password) from a browser of its own with
    the same cookie, for parallel attempts."""
    seed(gateway)
    app = create_app(console_settings(gateway), redis=gateway.client, clock=gateway.clock)
    with serving(app, free_port()) as url, httpx.Client(base_url=url) as http:
        csrf = _CSRF.search(http.get("/console/sign-in").text)
        assert csrf
        cookies = dict(http.cookies)

        def attempt(name: str, password: str) -> int:
            with httpx.Client(base_url=url, cookies=cookies, timeout=60) as own:
                return own.post("/console/sign-in", data={
                    "csrf": csrf[1], "name": name, "password": password}).status_code

        yield http, csrf[1], attempt


def test_a_burst_of_parallel_guesses_gets_only_the_free_attempts_checked(
    gateway: Gateway,
) -> None:
    with _served_sign_in(gateway) as (http, csrf, attempt):
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda _: attempt(ALICE.name, "guess"), range(50)))
        form = {"csrf": csrf, "name": ALICE.name, "password": "guess"}

        # The clock stands still: past the free attempts, every guess must wait.
        assert answers.count(401) == PER_NAME.free
        assert answers.count(429) == 50 - PER_NAME.free
        right = http.post("/console/sign-in", data={**form, "password": ALICE.password})
        assert right.status_code == 429
        gateway.clock.advance(dt.timedelta(seconds=int(right.headers["retry-after"])))
        signed = http.post("/console/sign-in", data={**form, "password": ALICE.password},
                           follow_redirects=False)
        assert signed.status_code == 303


def test_passwords_are_checked_two_at_a_time_while_pages_still_answer(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
) -> None:
    held, most, lock, gate = [0], [0], threading.Lock(), threading.Event()
    real_scrypt = hashlib.scrypt

    def gated(*args: Any, **kwargs: Any) -> bytes:
        with lock:
            held[0] += 1
            most[0] = max(most[0], held[0])
        try:
            gate.wait(timeout=30)
            return real_scrypt(*args, **kwargs)
        finally:
            with lock:
                held[0] -= 1

    with _served_sign_in(gateway) as (http, _, attempt):
        monkeypatch.setattr(hashlib, "scrypt", gated)
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = pool.map(lambda n: attempt(f"mallory{n}", "guess"), range(6))
            try:
                deadline = time.monotonic() + 30
                while most[0] < 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
                # While passwords wait for their threads, pages are served.
                for _ in range(10):
                    assert http.get("/console/sign-in").status_code == 200
                assert held[0] == 2
            finally:
                gate.set()
            assert list(answers) == [401] * 6
    assert most[0] == 2


def test_a_forged_or_tampered_cookie_is_a_stranger(console: Console) -> None:
    console.sign_in(ALICE)
    value = console.http.cookies.get(COOKIE)
    assert value
    body, _, signature = value.rpartition(".")
    console.http.cookies.clear()
    console.http.cookies.set(COOKIE, body + "." + signature[::-1], path="/console")
    assert console.http.get("/console/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(console: Console) -> None:
    console.sign_in(ALICE)
    answer = console.post("/console/sign-out", {}, page="/console/")
    assert answer.status_code == 303
    assert console.http.get("/console/", follow_redirects=False).status_code == 303


def test_a_cookie_kept_after_sign_out_signs_nobody_in(console: Console) -> None:
    console.sign_in(ALICE)
    kept = console.http.cookies.get(COOKIE)
    assert kept and console.http.get("/console/dead-letters").status_code == 200

    console.post("/console/sign-out", {}, page="/console/")
    console.http.cookies.clear()
    console.http.cookies.set(COOKIE, kept, path="/console")

    assert console.http.get("/console/dead-letters", follow_redirects=False).status_code == 303
    assert console.http.get("/console/api/overview").status_code == 401


def test_the_session_lives_in_redis_for_its_lifetime_only(console: Console) -> None:
    client = console.gateway.client
    console.sign_in(VICTOR)
    (key,) = client.keys("notifier:console:session:*")
    cookie = console.http.cookies.get(COOKIE)
    assert cookie
    body = cookie.rpartition(".")[0]
    carried = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert carried["i"] not in key.decode()  # reading Redis gives no session id
    assert "victor" not in json.dumps(carried)  # the cookie never says who signed in
    lifetime = dt.timedelta(hours=console.gateway.settings.console_session_hours)
    assert 0 < client.pttl(key) <= lifetime.total_seconds() * 1000
    assert b"victor-staple" not in client.get(key)

    console.post("/console/sign-out", {}, page="/console/")
    assert client.keys("notifier:console:session:*") == []
    console.http.get("/console/sign-in")  # browsers that have not signed in store nothing
    assert client.keys("notifier:console:session:*") == []


@pytest.mark.parametrize("change", ["removed", "role", "clinic"])
def test_an_operator_removed_or_changed_in_the_settings_is_signed_out(
    gateway: Gateway, change: str,
) -> None:
    first = make_console(gateway)
    first.sign_in(VICTOR)
    cookie = first.http.cookies.get(COOKIE)
    assert cookie and first.http.get("/console/").status_code == 200
    victor = next(e for e in operators_setting().split(";") if e.startswith("victor:"))
    others = [e for e in operators_setting().split(";") if e != victor]
    changed = {"removed": [], "role": [victor.replace(":viewer:", ":admin:")],
               "clinic": [victor.replace(":viewer:*:", ":viewer:plateau:")]}[change]
    # The deployment restarted with victor gone or changed.
    second = make_console(gateway, operators=";".join(others + changed))
    second.http.cookies.set(COOKIE, cookie, path="/console")
    assert second.http.get("/console/", follow_redirects=False).status_code == 303
    # Ended for good: putting him back as he was does not revive that session.
    first.http.cookies.set(COOKIE, cookie, path="/console")
    assert first.http.get("/console/", follow_redirects=False).status_code == 303


def test_a_changed_password_ends_existing_sessions(gateway: Gateway) -> None:
    first = make_console(gateway)
    first.sign_in(VICTOR)
    cookie = first.http.cookies.get(COOKIE)
    assert cookie
    # The deployment restarted with a new hash for victor (same password, new salt).
    entries = [f"victor:viewer:*:{hash_password(VICTOR.password)}" if e.startswith("victor:")
               else e for e in operators_setting().split(";")]
    second = make_console(gateway, operators=";".join(entries))
    second.http.cookies.set(COOKIE, cookie, path="/console")
    assert second.http.get("/console/", follow_redirects=False).status_code == 303


# CSRF ------------------------------------------------------------------------------------

def test_a_form_without_the_session_token_is_refused(console: Console) -> None:
    console.sign_in(ALICE)
    before = console.dead_ids()
    assert before

    answer = console.http.post("/console/dead-letters/requeue-all",
                               data={"csrf": "forged", "queue": INTAKE_QUEUE},
                               follow_redirects=False)

    assert answer.status_code == 403
    assert "Formulaire expiré" in answer.text
    assert console.dead_ids() == before
    no_token = console.http.post("/console/sign-in", data={"name": "alice",
                                                           "password": ALICE.password})
    assert no_token.status_code == 403


# Roles and scope -------------------------------------------------------------------------

def test_a_viewer_sees_dead_letters_but_cannot_requeue_or_discard(console: Console) -> None:
    console.sign_in(VICTOR)
    (dead_id,) = console.dead_ids()
    page = console.http.get("/console/dead-letters")
    assert page.status_code == 200 and "Remettre en file" not in page.text

    for action in ("requeue", "discard", "requeue-all"):
        answer = console.post(f"/console/dead-letters/{action}",
                              {"queue": INTAKE_QUEUE, "id": dead_id, "reason": "try"},
                              page="/console/dead-letters")
        assert answer.status_code == 403, action
    assert console.dead_ids() == [dead_id]
    assert operator_actions(console.gateway.client, console.gateway.settings) == []


def test_an_admin_requeues_a_dead_letter_and_the_action_is_recorded(console: Console) -> None:
    console.sign_in(ALICE)
    (dead_id,) = console.dead_ids()

    answer = console.post("/console/dead-letters/requeue",
                          {"queue": INTAKE_QUEUE, "id": dead_id, "reason": "fixed upstream"},
                          page="/console/dead-letters")

    assert answer.status_code == 303
    assert console.dead_ids() == []
    (action,) = operator_actions(console.gateway.client, console.gateway.settings)
    assert (action.actor, action.action, action.reason) == ("alice", "requeue",
                                                            "fixed upstream")
    page = console.http.get(answer.headers["location"])
    assert "1 message(s) remis en file." in page.text and "fixed upstream" in page.text


def test_an_admin_requeues_every_dead_letter_of_a_queue(console: Console) -> None:
    console.sign_in(ALICE)
    assert len(console.dead_ids()) == 1

    answer = console.post("/console/dead-letters/requeue-all",
                          {"queue": INTAKE_QUEUE, "reason": "bad deploy rolled back"},
                          page="/console/dead-letters")

    assert answer.status_code == 303
    assert console.dead_ids() == []
    (action,) = operator_actions(console.gateway.client, console.gateway.settings)
    assert (action.actor, action.reason) == ("alice", "bad deploy rolled back")
    page = console.http.get(answer.headers["location"])
    assert "1 message(s) remis en file." in page.text


def test_an_admin_discards_a_dead_letter(console: Console) -> None:
    console.sign_in(ALICE)
    (dead_id,) = console.dead_ids()
    answer = console.post("/console/dead-letters/discard",
                          {"queue": INTAKE_QUEUE, "id": dead_id, "reason": "test event"},
                          page="/console/dead-letters")
    assert answer.status_code == 303 and console.dead_ids() == []
    (action,) = operator_actions(console.gateway.client, console.gateway.settings)
    assert action.action == "discard"


def test_a_clinic_scoped_viewer_sees_only_their_clinic(console: Console) -> None:
    console.sign_in(SOPHIE)

    own = console.http.get(f"/console/story?reference={PLATEAU_REFERENCE}")
    other = console.http.get(f"/console/story?reference={ROSEMONT_REFERENCE}")
    unknown = console.http.get(f"/console/story?reference={UNKNOWN_REFERENCE}")

    assert own.status_code == 200 and "Rendez-vous 0000000001" in own.text
    assert other.status_code == 404 and unknown.status_code == 404
    assert other.text.replace(ROSEMONT_REFERENCE, UNKNOWN_REFERENCE) == \
        unknown.text  # another clinic's appointment looks exactly like an unknown one
    for path in ("/console/dead-letters", "/console/opt-outs"):
        assert console.http.get(path).status_code == 403
    overview = console.http.get("/console/?period=day")
    assert overview.status_code == 200
    # Clinics by name: the header's scope and the table of deliveries by clinic.
    assert "Clinique médicale du Plateau seulement" in overview.text
    assert "Clinique médicale du Plateau" in overview.text
    assert "rosemont" not in overview.text.lower()
    assert "Files d’attente" not in overview.text
    data = console.http.get("/console/api/overview").json()
    assert "health" not in data
    assert set(data["deliveries"]["by_location"]) == {"plateau"}


def test_an_unscoped_operator_sees_every_clinic_and_the_queues(console: Console) -> None:
    console.sign_in(VICTOR)
    overview = console.http.get("/console/?period=day")
    assert "plateau" in overview.text and "rosemont" in overview.text
    assert "Files d’attente" in overview.text and "<svg" in overview.text
    # The undelivered SMS, with its provider code explained in words.
    assert "30005" in overview.text
    assert console.http.get(f"/console/story?reference={ROSEMONT_REFERENCE}").status_code == 200


def test_late_deliveries_after_a_fallback_are_a_figure_of_their_own(console: Console) -> None:
    keys = Keys(console.gateway.settings.queue_prefix)
    hour = console.gateway.clock().astimezone(dt.UTC).strftime("%Y%m%d%H")
    for location in ("plateau", "rosemont"):
        console.gateway.client.hincrby(keys.fallback_redundant(hour),
                                       f"sms|reminder|fr|{location}", 1)
    figure = re.compile(r'id="fallback-redundant"><div class="n">(\d+)</div>')

    console.sign_in(VICTOR)
    page = console.http.get("/console/?period=day").text
    assert figure.findall(page) == ["2"]
    assert "Livrés en retard, après l’envoi de leur message de repli" in page
    assert "fallback_redundant" not in page  # no status column or row of that name
    data = console.http.get("/console/api/overview").json()
    assert data["deliveries"]["fallback_redundant"] == {"sms": 2}
    assert "fallback_redundant" not in data["deliveries"]["by_status"]
    assert data["health"]["deliveries_last_hour"]["fallback_redundant"] == 2

    console.http.cookies.clear()
    console.sign_in(SOPHIE)
    assert figure.findall(console.http.get("/console/?period=day").text) == ["1"]


# Undeliverable contacts ------------------------------------------------------------------

def test_a_clinic_operator_sees_their_clinics_undeliverable_contacts_from_the_overview(
    console: Console,
) -> None:
    console.sign_in(SOPHIE)
    overview = console.http.get("/console/").text
    assert "Coordonnées injoignables : 1" in overview
    assert 'href="/console/undeliverable"' in overview

    page = console.http.get("/console/undeliverable")
    assert page.status_code == 200
    assert '<h2 id="contacts">Clinique médicale du Plateau</h2>' in page.text
    assert "+1•••••••188" in page.text
    assert "<code>landline</code>" in page.text and "ligne fixe" in page.text
    assert "<code>bounced</code>" not in page.text and "rosemont" not in page.text
    assert "Par clinique" not in page.text  # one clinic: no table of clinics
    other = console.http.get("/console/undeliverable?location=rosemont")
    assert other.status_code == 403 and "j•••@example.net" not in other.text


def test_an_unscoped_operator_sees_every_clinics_count_and_opens_one(
    console: Console,
) -> None:
    console.sign_in(VICTOR)
    console.post("/console/language", {"lang": "en"}, page="/console/")
    assert "Undeliverable contacts: 2" in console.http.get("/console/").text

    clinics = console.http.get("/console/undeliverable")
    assert clinics.status_code == 200
    assert 'href="/console/undeliverable?location=plateau"' in clinics.text
    assert 'href="/console/undeliverable?location=rosemont"' in clinics.text
    assert 'id="contacts"' not in clinics.text  # no clinic chosen yet
    rosemont = console.http.get("/console/undeliverable?location=rosemont").text
    assert '<h2 id="contacts">Clinique Rosemont</h2>' in rosemont
    assert "j•••@example.net" in rosemont
    assert "<code>bounced</code>" in rosemont and "another address" in rosemont
    assert "+1•••••••188" not in rosemont
    assert "No undeliverable contacts." in console.http.get(
        "/console/undeliverable?location=nowhere").text
    bad = console.http.get("/console/undeliverable?location=Not%20a%20clinic")
    assert bad.status_code == 422 and "lowercase letters" in bad.text


def test_a_replaced_address_leaves_the_list(console: Console) -> None:
    gateway = console.gateway
    now = gateway.clock()
    Intake(gateway.client, gateway.settings).accept(event(
        "contact_changed", version=2, start=START, at=now, reference=PLATEAU_REFERENCE,
        patient={"mobile_phone": "+15145550144"}), now)
    console.sign_in(SOPHIE)
    page = console.http.get("/console/undeliverable").text
    assert "+1•••••••188" not in page and "Aucune coordonnée injoignable." in page


def test_a_reference_that_is_not_ten_digits_is_explained(console: Console) -> None:
    console.sign_in(VICTOR)
    answer = console.http.get("/console/story?reference=12ab")
    assert answer.status_code == 422 and "exactement 10 chiffres" in answer.text


# Opt-outs --------------------------------------------------------------------------------

def test_an_admin_looks_up_a_number_and_opts_it_back_in_with_a_reason(
    console: Console,
) -> None:
    console.sign_in(ALICE)
    found = console.post("/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER},
                         page="/console/opt-outs")
    assert found.status_code == 200 and "+1•••••••188" in found.text
    assert "désabonné" in found.text
    token = re.search(r'name="token" value="([^"]+)"', found.text)
    assert token

    changed = console.post("/console/opt-outs/change",
                           {"token": token[1], "channel": "sms", "action": "in",
                            "reason": "patient called the clinic", "consent": "yes"},
                           page="/console/opt-outs")

    assert changed.status_code == 200 and "État changé et consigné." in changed.text
    store = OptOutStore(console.gateway.client, console.gateway.settings)
    assert not store.is_opted_out(OPTED_OUT_NUMBER, Channel.SMS)
    last = store.audit(OPTED_OUT_NUMBER)[-1]
    assert (last.source, last.reason) == ("operator", "alice: patient called the clinic")


def test_a_viewer_cannot_change_an_opt_out(console: Console) -> None:
    console.sign_in(VICTOR)
    found = console.post("/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER},
                         page="/console/opt-outs")
    assert found.status_code == 200 and 'name="token"' not in found.text
    answer = console.post("/console/opt-outs/change",
                          {"token": "x", "channel": "sms", "action": "in", "reason": "r"},
                          page="/console/opt-outs")
    assert answer.status_code == 403
    store = OptOutStore(console.gateway.client, console.gateway.settings)
    assert store.is_opted_out(OPTED_OUT_NUMBER, Channel.SMS)


def test_a_lookup_token_is_only_good_for_who_made_it(console: Console) -> None:
    console.sign_in(ALICE)
    answer = console.post("/console/opt-outs/change",
                          {"token": "made-up", "channel": "sms", "action": "in",
                           "reason": "r"}, page="/console/opt-outs")
    assert answer.status_code == 410 and "a expiré" in answer.text


def test_an_invalid_number_is_refused_without_repeating_it(console: Console) -> None:
    console.sign_in(ALICE)
    answer = console.post("/console/opt-outs/lookup", {"number": "514-555-01x"},
                          page="/console/opt-outs")
    assert answer.status_code == 422 and "514-555-01x" not in answer.text


# Integrators -----------------------------------------------------------------------------

HOOK_URL = "https://hooks.agenda.example:8443/notifier/tok_k9Zp2Qx?key=s3cr3t"


def troubled_integrators(gateway: Gateway) -> dict[EndpointState, Endpoint]:
    """Agenda Plus with three endpoints: active with a given-up callback, suspended, and
    disabled; and an integrator with none."""
    now = gateway.clock()
    store = IntegratorStore(gateway.client, gateway.settings, clock=gateway.clock)
    store.add("agenda-plus", name="Agenda Plus", locations=frozenset({"plateau", "rosemont"}),
              actor="tests", now=now)
    store.add("rdv-express", name="RDV Express", locations=frozenset({"plateau"}),
              actor="tests", now=now)
    endpoints = {}
    for state in EndpointState:
        endpoint, _ = store.add_endpoint("agenda-plus", url=HOOK_URL,
                                         types=frozenset({"message.sent"}), actor="tests",
                                         now=now)
        if state is not EndpointState.ACTIVE:
            endpoint = store.set_endpoint_state(endpoint.id, state, reason="tests", now=now)
        endpoints[state] = endpoint
    deliveries = CallbackDeliveries(gateway.client, keys=Keys(gateway.settings.queue_prefix))
    deliveries.attempted(delivery_name(endpoints[EndpointState.ACTIVE].id, "evt_1-0"),
                         Fate.DEAD, now=now, answer="503", suspend_after=dt.timedelta(days=3))
    return endpoints


def test_the_integrators_page_tells_each_endpoints_state_and_what_to_do(
    console: Console,
) -> None:
    endpoints = troubled_integrators(console.gateway)
    active, suspended, disabled = (endpoints[s] for s in (
        EndpointState.ACTIVE, EndpointState.SUSPENDED, EndpointState.DISABLED))
    console.sign_in(VICTOR)

    french = console.http.get("/console/integrators")
    console.post("/console/language", {"lang": "en"}, page="/console/")
    english = console.http.get("/console/integrators")

    for answer in (french, english):
        assert answer.status_code == 200
        assert 'href="/console/integrators" aria-current="page"' in answer.text
        assert "Agenda Plus" in answer.text and (
            "Clinique médicale du Plateau, Clinique Rosemont" in answer.text)
        assert "RDV Express" in answer.text
        # The host and port only: the path and query may carry the integrator's token.
        assert "https://hooks.agenda.example:8443" in answer.text
        for private in ("tok_k9Zp2Qx", "s3cr3t", "/notifier", *active.secrets):
            assert private not in answer.text
        assert f"notifier integrators endpoint test {suspended.id}" in answer.text
        assert f"notifier integrators endpoint enable {disabled.id}" in answer.text
        assert f"--endpoint {active.id}" in answer.text
        assert re.search(rf'data-endpoint="{active.id}" data-state="active">.*?503',
                         answer.text, re.S)
    assert "<h1>Intégrateurs</h1>" in french.text and "suspendu" in french.text
    assert "le réactive s’il répond" in french.text
    assert "Points de réception suspendus" in french.text
    assert "<h1>Integrators</h1>" in english.text and "Given up" in english.text
    assert "Once Agenda Plus has fixed it" in english.text
    assert "makes it active again if it answers" in english.text


def test_the_integrators_page_is_for_operators_who_see_every_clinic(
    console: Console,
) -> None:
    console.sign_in(SOPHIE)

    assert console.http.get("/console/integrators").status_code == 403
    assert "/console/integrators" not in console.http.get("/console/").text


def test_with_no_integrator_the_page_says_how_to_add_one(console: Console) -> None:
    console.sign_in(VICTOR)

    answer = console.http.get("/console/integrators")

    assert answer.status_code == 200 and "notifier integrators add" in answer.text


# Language --------------------------------------------------------------------------------

def test_the_language_follows_the_browser_until_the_operator_picks_one(
    console: Console,
) -> None:
    english = console.http.get("/console/sign-in", headers={"Accept-Language": "en-CA,en"})
    assert "<h1>Sign in</h1>" in english.text and 'lang="en-CA"' in english.text
    french = console.http.get("/console/sign-in")
    assert "<h1>Connexion</h1>" in french.text

    console.sign_in(VICTOR)
    chosen = console.post("/console/language", {"lang": "en", "next": "/console/story"},
                          page="/console/")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/console/story"
    story = console.http.get("/console/story")  # French browser, English chosen
    assert "An appointment’s story" in story.text


# Masking ---------------------------------------------------------------------------------

def test_no_page_shows_a_patient_name_number_or_email(console: Console) -> None:
    pages = ["/console/", "/console/?period=hour", "/console/?period=week",
             f"/console/story?reference={PLATEAU_REFERENCE}",
             f"/console/story?reference={ROSEMONT_REFERENCE}",
             "/console/dead-letters", "/console/opt-outs", "/console/integrators",
             "/console/undeliverable", "/console/undeliverable?location=plateau",
             "/console/undeliverable?location=rosemont", "/console/api/overview"]
    for lang in ("fr", "en"):
        console.http.cookies.clear()
        console.sign_in(ALICE)
        console.post("/console/language", {"lang": lang}, page="/console/")
        for path in pages:
            answer = console.http.get(path)
            assert answer.status_code == 200, path
            assert_masked(answer.text, f"{path} ({lang})")
        for number in (OPTED_OUT_NUMBER, "+15145550177"):
            found = console.post("/console/opt-outs/lookup", {"number": number},
                                 page="/console/opt-outs")
            assert_masked(found.text, "opt-out lookup")
    story = console.http.get(f"/console/story?reference={PLATEAU_REFERENCE}").text
    assert "e•••@example.org" in story  # masked, still useful


def test_delivery_counts_are_read_again_after_30_seconds(console: Console) -> None:
    console.sign_in(VICTOR)
    first = console.http.get("/console/api/overview").json()
    delivered = first["deliveries"]["by_status"]["delivered"]
    deliveries = DeliveryLog(console.gateway.client, keys=Keys("notifier"),
                             retention=console.gateway.settings.delivery_retention)
    deliveries.advance("0000000001:reminder:sms:x", DeliveryStatus.DELIVERED,
                       console.gateway.clock(), fields={"channel": "sms", "location": "plateau"})

    console.gateway.clock.advance(dt.timedelta(seconds=29))
    again = console.http.get("/console/api/overview").json()
    assert again["deliveries"]["by_status"]["delivered"] == delivered
    assert again["deliveries_read_at"] == first["deliveries_read_at"]

    console.gateway.clock.advance(dt.timedelta(seconds=2))
    fresh = console.http.get("/console/api/overview").json()
    assert fresh["deliveries"]["by_status"]["delivered"] == delivered + 1


def test_replies_needing_a_human_show_their_text_to_admins_of_their_clinic_only(
    console: Console,
) -> None:
    store = ResponseStore(console.gateway.client, console.gateway.settings)
    now = console.gateway.clock()

    def asked(reference: str, location: str) -> OpenQuestion:
        later = now + dt.timedelta(days=3)
        return OpenQuestion(reference, 1, location, Lang.FR, Channel.SMS, "482", True, now,
                            later, later, f"{reference}:reminder:sms", "f" * 16)

    store.needs_human("+15145550177", "Je serai en retard de 10 minutes", [
        asked(PLATEAU_REFERENCE, "plateau")], channel="sms", now=now)
    store.needs_human("+15145550166", "Mon fils est malade", [
        asked(ROSEMONT_REFERENCE, "rosemont")], channel="sms", now=now)

    console.sign_in(ALICE)
    page = console.http.get("/console/replies")
    assert page.status_code == 200 and "Réponses de patients à traiter" in page.text
    assert "Je serai en retard" in page.text and "Mon fils est malade" in page.text
    assert "5145550177" not in page.text and "+1•••••••177" in page.text
    console.http.post("/console/sign-out", data={"csrf": console.csrf("/console/")})

    console.sign_in(SOPHIE)  # a viewer of one clinic
    page = console.http.get("/console/replies")
    assert page.status_code == 200
    assert PLATEAU_REFERENCE in page.text and ROSEMONT_REFERENCE not in page.text
    assert "retard" not in page.text and "masqué (administrateurs seulement)" in page.text
