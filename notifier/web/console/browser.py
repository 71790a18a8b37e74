"""The console's configuration and each request's browser: session cookie, language,
signed-in operator.

Failed sign-ins are counted per name and per client address in Redis: past
:data:`MAX_FAILURES_PER_NAME` (or :data:`MAX_FAILURES_PER_ADDRESS`) within
:data:`FAILURE_WINDOW`, sign-in is refused until the window passes. An unknown name is
checked against a decoy hash, so it costs as long as a wrong password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Annotated
from zoneinfo import ZoneInfo

import redis
from fastapi import Depends, Request, Response

from notifier.domain import Lang
from notifier.settings import Operator, Settings
from notifier.web.console.i18n import Words, negotiate
from notifier.web.console.overview import DeliveriesCache
from notifier.web.console.passwords import decoy_hash, verify_password
from notifier.web.console.session import COOKIE, Session, SessionCodec, stamp_of
from notifier.web.context import web_context

PREFIX = "/console"

MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = dt.timedelta(minutes=15)


@dataclasses.dataclass(frozen=True)
class Console:
    """The console's configuration, built once per app from the settings.

    Parameters:
      operators: who may sign in, by name.
      codec: signs and reads session cookies.
      lifetime: how long a session lasts after sign-in.
      secure_cookie: send the cookie over https only (when the public URL is https).
      zone: the time zone times are shown in.
      throttle: counts failed sign-ins.
      deliveries: recent delivery counts, shared by the app's requests.
    """

    operators: Mapping[str, Operator]
    codec: SessionCodec
    lifetime: dt.timedelta
    secure_cookie: bool
    zone: ZoneInfo
    throttle: SignInThrottle
    deliveries: DeliveriesCache

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis) -> Console:
        secret = settings.console_secret_key
        # Without operators nobody can sign in; a random key then suffices.
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        return cls(
            operators={operator.name: operator for operator in settings.operators},
            codec=SessionCodec(key),
            lifetime=dt.timedelta(hours=settings.console_session_hours),
            secure_cookie=(settings.public_base_url or "").startswith("https://"),
            zone=ZoneInfo(settings.console_time_zone),
            throttle=SignInThrottle(client, prefix=settings.queue_prefix),
            deliveries=DeliveriesCache(),
        )

    def authenticate(self, name: str, password: str) -> Operator | None:
        """The operator with this name and password, or None (same cost either way)."""
        operator = self.operators.get(name)
        stored = operator.password_hash if operator else decoy_hash()
        matches = verify_password(password, stored)
        return operator if operator is not None and matches else None


class SignInThrottle:
    """Failed sign-ins per name and per client address, in Redis (shared by web processes).

    Parameters:
      client: a redis-py client.
      prefix: the deployment's key namespace.
    """

    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}:console:sign-in-failures"

    def _keys(self, name: str, address: str) -> list[tuple[str, int]]:
        # Hashed: the keys should not list who tried which names from where.
        def tag(value: str) -> str:
            return hashlib.sha256(value.encode()).hexdigest()[:24]

        return [(f"{self.prefix}:name:{tag(name.lower())}", MAX_FAILURES_PER_NAME),
                (f"{self.prefix}:address:{tag(address)}", MAX_FAILURES_PER_ADDRESS)]

    def wait(self, name: str, address: str) -> dt.timedelta:
        """How long sign-in stays refused for this name or address (zero when allowed)."""
        keys = self._keys(name, address)
        with self.client.pipeline(transaction=False) as pipe:
            for key, _ in keys:
                pipe.get(key)
                pipe.pttl(key)
            answers = pipe.execute()
        wait = 0
        for i, (_, limit) in enumerate(keys):
            count, ttl = answers[2 * i], answers[2 * i + 1]
            if count is not None and int(count) >= limit:
                wait = max(wait, int(ttl))
        return dt.timedelta(milliseconds=max(wait, 0))

    def failed(self, name: str, address: str) -> None:
        window = int(FAILURE_WINDOW.total_seconds())
        with self.client.pipeline(transaction=True) as pipe:
            for key, _ in self._keys(name, address):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            pipe.execute()

    def succeeded(self, name: str) -> None:
        self.client.delete(self._keys(name, "")[0][0])


def current_console(request: Request) -> Console:
    """The app's console configuration (built on first use; the settings are already
    validated when the app is created)."""
    state = request.app.state
    console = getattr(state, "console", None)
    if console is None:
        context = web_context(request)
        console = state.console = Console.from_settings(context.settings, context.client)
    assert isinstance(console, Console)
    return console


@dataclasses.dataclass
class Browser:
    """One request's view of its browser: the session (new if it had none) and the words in
    its language.

    Parameters:
      console: the console's configuration.
      session: the session cookie's content, or a fresh anonymous one.
      now: the request's time (the app's clock).
      words: the catalogue in the session's (or the browser's) language.
      operator: the signed-in operator, or None.
      changed: the cookie must be (re)sent with the response.
      here: the page to come back to (after a language change, say).
    """

    console: Console
    session: Session
    now: dt.datetime
    words: Words
    operator: Operator | None
    changed: bool
    here: str = PREFIX + "/"

    @property
    def lang(self) -> Lang:
        return self.words.lang

    def replace_session(self, session: Session, operator: Operator | None) -> None:
        self.session = session
        self.operator = operator
        self.words = Words(session.lang or self.words.lang, zone=self.console.zone)
        self.changed = True

    def finish(self, response: Response) -> Response:
        """Attach the cookie when the session is new or changed."""
        if self.changed:
            response.set_cookie(
                COOKIE,
                self.console.codec.encode(self.session),
                max_age=int((self.session.expires - self.now).total_seconds()),
                path=PREFIX,
                httponly=True,
                samesite="lax",
                secure=self.console.secure_cookie,
            )
        response.headers["Cache-Control"] = "no-store"
        return response


def browser(request: Request, console: Annotated[Console, Depends(current_console)]) -> Browser:
    """The request's browser; a missing, forged, expired or outdated cookie starts a new
    anonymous session (sent back with the response)."""
    now = web_context(request).clock()
    session = console.codec.decode(request.cookies.get(COOKIE), now)
    changed = session is None
    operator = None
    if session is not None and session.operator is not None:
        operator = console.operators.get(session.operator)
        if operator is None or stamp_of(operator.password_hash) != session.stamp:
            # Removed from the settings, or the password changed: signed out.
            session, operator, changed = None, None, True
    if session is None:
        session = Session.fresh(now, console.lifetime)
    lang = session.lang or negotiate(request.headers.get("accept-language"))
    return Browser(console, session, now, Words(lang, zone=console.zone), operator, changed,
                   here=_here(request))


def _here(request: Request) -> str:
    """This page's address; for a form's answer, its section's page (a GET)."""
    path = request.url.path
    if request.method == "GET":
        return path + (f"?{request.url.query}" if request.url.query else "")
    section = path.removeprefix(PREFIX + "/").split("/", 1)[0]
    return f"{PREFIX}/{section}" if section else PREFIX + "/"


BrowserDep = Annotated[Browser, Depends(browser)]


