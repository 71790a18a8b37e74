"""The console's configuration and each request's browser: session cookie, language,
signed-in operator.

Sign-in attempts are slowed down per name and per client address (:mod:`.throttle`). An
unknown name is checked against a decoy hash, so it costs as long as a wrong password;
passwords are checked off the request threads (:func:`.passwords.check_password`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from redis import Redis

from notifier.domain import Lang
from notifier.settings import Operator, Settings
from notifier.store.clinics import Clinics
from notifier.store.keys import Keys
from notifier.web.console.i18n import Words, negotiate
from notifier.web.console.known_browsers import KnownBrowsers
from notifier.web.console.overview import DeliveriesCache
from notifier.web.console.passwords import check_password
from notifier.web.console.session import COOKIE, Session, SessionCodec, SignIns
from notifier.web.console.throttle import SignInThrottle
from notifier.web.context import web_context

PREFIX = "/console"


@dataclasses.dataclass(frozen=True)
class Console:
    """The console's configuration, built once per app from the settings.

    Parameters:
      operators: who may sign in, by name.
      codec: signs and reads session cookies.
      known: makes and reads the cookie of browsers where an operator signed in before.
      sign_ins: who signed in with which session (in Redis).
      lifetime: how long a session lasts after sign-in.
      secure_cookie: send the cookie over https only (when the public URL is https).
      zone: the time zone times are shown in.
      throttle: slows down repeated sign-in attempts.
      deliveries: recent delivery counts, shared by the app's requests.
      clinics: the clinics' directory (names a scoped operator's clinic in the header).
    """

    operators: Mapping[str, Operator]
    codec: SessionCodec
    known: KnownBrowsers
    sign_ins: SignIns
    lifetime: dt.timedelta
    secure_cookie: bool
    zone: ZoneInfo
    throttle: SignInThrottle
    deliveries: DeliveriesCache
    clinics: Clinics

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis) -> Console:
        secret = settings.console_secret_key
        # Without operators nobody can sign in; a random key then suffices.
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        keys = Keys(settings.queue_prefix)
        return cls(
            operators={operator.name: operator for operator in settings.operators},
            codec=SessionCodec(key),
            known=KnownBrowsers(key),
            sign_ins=SignIns(redis, keys=keys),
            lifetime=dt.timedelta(hours=settings.console_session_hours),
            secure_cookie=(settings.public_base_url or "").startswith("https://"),
            zone=ZoneInfo(settings.console_time_zone),
            throttle=SignInThrottle(redis, keys=keys),
            deliveries=DeliveriesCache(),
            clinics=Clinics(redis, keys=keys),
        )

    async def authenticate(self, name: str, password: str) -> Operator | None:
        """The operator with this name and password, or None (same cost either way)."""
        operator = self.operators.get(name)
        matches = await check_password(password, operator.password_hash if operator else None)
        return operator if operator is not None and matches else None


def current_console(request: Request) -> Console:
    """The app's console configuration (built on first use; the settings are already
    validated when the app is created)."""
    state = request.app.state
    console = getattr(state, "console", None)
    if console is None:
        context = web_context(request)
        console = state.console = Console.from_settings(context.settings, context.redis)
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

    def replace_session(self, session: Session) -> None:
        self.session = session
        self.words = Words(session.lang or self.words.lang, zone=self.console.zone)
        self.changed = True

    def sign_in(self, operator: Operator) -> None:
        """Start a new session (new id and form token: none seen before stays good) for
        ``operator``."""
        session = Session.fresh(self.now, self.console.lifetime, lang=self.session.lang)
        self.console.sign_ins.record(session, operator, self.now)
        self.replace_session(session)
        self.operator = operator

    def sign_out(self) -> None:
        """End the session in Redis: its cookie no longer signs anyone in."""
        self.console.sign_ins.end(self.session)
        self.replace_session(Session.fresh(self.now, self.console.lifetime,
                                           lang=self.session.lang))
        self.operator = None

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
    """The request's browser; a missing, forged or expired cookie starts a new anonymous
    session (sent back with the response). A session signed out, or whose operator left
    the settings or changed, is anonymous."""
    now = web_context(request).clock()
    session = console.codec.decode(request.cookies.get(COOKIE), now)
    changed = session is None
    operator = None
    if session is None:
        session = Session.fresh(now, console.lifetime)
    else:
        operator = console.sign_ins.operator(session, console.operators)
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


