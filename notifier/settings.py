"""Deployment settings, read from ``NOTIFIER_*`` environment variables and validated at start.

A wrong or missing setting stops the process with one line that names it
(see :func:`load_settings`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from notifier.domain import LOCATION_ID, Channel, Lang
from notifier.errors import SettingsError
from notifier.problems import describe
from notifier.sending_window import SendingWindow

_DURATION = re.compile(r"^\s*(\d+)\s*(d|h|m|s)\s*$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> dt.timedelta:
    """``"3d"``, ``"24h"``, ``"90m"``, ``"30s"`` or a number of seconds."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it as 3d, 24h, 90m or 30s")
    return dt.timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def _durations(value: object) -> object:
    if isinstance(value, str):
        return [parse_duration(part) for part in value.split(",") if part.strip()]
    return value


def _window(value: object) -> object:
    return SendingWindow.parse(value) if isinstance(value, str) else value


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]


def _regions(value: object) -> object:
    """``"CA,US"``: region codes (ISO 3166) that libphonenumber knows."""
    if not isinstance(value, str):
        return value
    regions = frozenset(code.strip().upper() for code in value.split(",") if code.strip())
    if not regions:
        raise ValueError("list at least one region code, for example CA,US")
    if not regions <= phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("use two-letter region codes (ISO 3166), for example CA,US,FR")
    return regions


def _addresses(value: str) -> tuple[tuple[str, int], ...]:
    """``"10.0.0.1:26379,sentinel-b:26379"``: host:port pairs."""
    found: list[tuple[str, int]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        host, colon, port = part.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{part!r} is not host:port; write e.g. 10.0.0.1:26379")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


# Operators' console ---------------------------------------------------------------------
# NOTIFIER_OPERATORS="alice:admin:*:<hash>;bob:viewer:plateau:<hash>", one entry per person:
# name, role (viewer or admin), the clinic (location id) they may see or * for every clinic,
# and a password hash from `python -m notifier.web.console.passwords`.

# scrypt.<n>.<r>.<p>.<salt hex>.<key hex>: dots and hex need no quoting in shells,
# .env files or compose files (unlike $ or base64).
PASSWORD_HASH = re.compile(r"^scrypt\.(\d+)\.(\d+)\.(\d+)\.([0-9a-f]{32})\.([0-9a-f]{64})$")
_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
OperatorRole = Literal["viewer", "admin"]
MIN_CONSOLE_SECRET_LENGTH = 32
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Operator:
    """One person allowed into the operators' console.

    Parameters:
      name: what they type to sign in.
      role: ``viewer`` looks; ``admin`` may also requeue, discard and change opt-outs.
      location: the only clinic (location id) they see, or None for every clinic.
      password_hash: from :mod:`notifier.web.console.passwords` (never the password).
    """

    name: str
    role: OperatorRole
    location: str | None
    password_hash: str = field(repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _operators(value: object) -> object:
    if not isinstance(value, str):
        return value
    found: list[Operator] = []
    for number, entry in enumerate((e.strip() for e in value.split(";") if e.strip()), 1):
        parts = [part.strip() for part in entry.split(":")]
        if len(parts) != 4:
            raise ValueError(
                f"entry {number} must be name:role:clinic:hash (clinic * for every clinic)"
            )
        name, role, scope, digest = parts
        if not _OPERATOR_NAME.match(name):
            raise ValueError(f"entry {number}: a name is 1 to 64 letters, digits, '.', '_', '-'")
        if role not in ("viewer", "admin"):
            raise ValueError(f"entry {number} ({name}): the role must be viewer or admin")
        if scope != "*" and not LOCATION_ID.fullmatch(scope):
            raise ValueError(f"entry {number} ({name}): the clinic must be a location id or *")
        if not PASSWORD_HASH.match(digest):
            raise ValueError(
                f"entry {number} ({name}): the hash must come from "
                "python -m notifier.web.console.passwords"
            )
        if any(known.name == name for known in found):
            raise ValueError(f"entry {number}: {name} is listed twice")
        found.append(Operator(name, role, None if scope == "*" else scope, digest))  # type: ignore[arg-type]
    return tuple(found)


class Settings(BaseSettings):
    """Everything a deployment chooses. Defaults suit the local demo."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", frozen=True, extra="ignore")

    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db (rediss:// for TLS); when unset, `notifier demo` "
        "starts a private Redis. With NOTIFIER_REDIS_SENTINELS it gives only the primary's "
        "scheme, password and database, its host being the Sentinel service: "
        "redis://:password@notifier/0",
    )
    redis_sentinels: Annotated[tuple[tuple[str, int], ...], NoDecode] = Field(
        default=(),
        description="host:port of each Redis Sentinel, comma-separated; when set, every "
        "process finds the primary through them and follows a failover",
    )
    redis_sentinel_service: str = Field(
        default="notifier", pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="The name the sentinels monitor the primary under",
    )
    redis_sentinel_password: SecretStr | None = Field(
        default=None, description="The sentinels' own password, when they require one",
    )
    redis_sentinel_tls: bool = Field(
        default=False, description="Talk to the sentinels over TLS",
    )
    redis_ca_file: Path | None = Field(
        default=None,
        description="CA bundle that signs the certificates of Redis and the sentinels "
        "(managed Redis over rediss://)",
    )
    redis_wait_replicas: int | None = Field(
        default=None, ge=0, le=10,
        description="Replicas that must hold an acknowledged write (an accepted event, an "
        "opt-out, a send about to start) before the gateway acknowledges it; unset: 1 when "
        "Redis has replicas, else 0",
    )
    redis_wait_timeout: Duration = Field(
        default=dt.timedelta(seconds=2),
        description="How long an acknowledged write waits for its replicas before the "
        "gateway answers as if Redis were down",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token booking systems present to POST /v1/events"
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Read-only bearer token Prometheus presents to GET /metrics (16 characters "
        "or more; never the API token)",
    )
    queue_prefix: str = Field(default="notifier", pattern=r"^[a-z][a-z0-9_-]{0,30}$")

    # What patients read.
    sender_name: str = Field(default="Rendez-vous santé", min_length=1, max_length=30)
    web_address: str = Field(default="www.rendez-vous.example.org", min_length=4)
    fee_notice_fr: str = "Frais msg/données applicables"
    fee_notice_en: str = "Msg/data rates may apply"
    cancel_link_pattern: str = Field(
        default="https://rendez-vous.example.org/?r={reference}&l={lang}",
        description="Online cancel link; {reference} and {lang} are filled in",
    )
    cancel_link_lang_fr: str = "f"
    cancel_link_lang_en: str = "a"
    templates_dir: Path | None = Field(
        default=None,
        description="The deployment's own templates, looked in before the shipped ones "
        "(same layout: sms/fr/confirmation.txt.j2...)",
    )

    # When messages are sent.
    reminder_offsets: Annotated[list[dt.timedelta], NoDecode, BeforeValidator(_durations)] = Field(
        default_factory=lambda: [dt.timedelta(days=3), dt.timedelta(days=1)]
    )
    reminder_min_lead: Duration = Field(
        default=dt.timedelta(hours=2),
        description="A reminder later than this before the start is dropped",
    )
    no_show_delay: Duration = dt.timedelta(hours=24)
    no_show_deadline: Duration = dt.timedelta(hours=48)
    window_sms: Annotated[SendingWindow, NoDecode, BeforeValidator(_window)] = Field(
        default_factory=lambda: SendingWindow.parse("mon-sun 08:00-21:00")
    )
    window_voice: Annotated[SendingWindow, NoDecode, BeforeValidator(_window)] = Field(
        default_factory=lambda: SendingWindow.parse("mon-fri 09:00-21:30; sat-sun 10:00-18:00")
    )
    window_email: Annotated[SendingWindow, NoDecode, BeforeValidator(_window)] = Field(
        default_factory=lambda: SendingWindow.parse("always")
    )
    sms_segment_budget: int = Field(default=3, ge=1, le=10)

    # Whom messages may go to (see notifier.destinations).
    allowed_phone_regions: Annotated[frozenset[str], NoDecode, BeforeValidator(_regions)] = (
        Field(default=frozenset({"CA", "US"}),
              description="Regions whose ordinary numbers are texted and called, e.g. CA,US")
    )

    # Where messages go and how long we remember.
    outbox_dir: Path = Path("var/outbox")
    event_retention: Duration = dt.timedelta(days=30)
    scheduler_poll: Duration = dt.timedelta(seconds=1)
    scheduler_lease: Duration = dt.timedelta(seconds=30)
    # Dramatiq's Redis broker: a worker silent this long is dead, and the messages it held
    # go back to their queue at a maintenance pass (a chance per broker command, out of a
    # million). The defaults are Dramatiq's; fault tests shorten them.
    worker_heartbeat_timeout: Duration = dt.timedelta(seconds=60)
    broker_maintenance_chance: int = Field(default=1000, ge=0, le=1_000_000)
    # Each send is logged at DEBUG; a worker process logs what its sends came to, one
    # INFO line at most this often.
    worker_summary_interval: Duration = dt.timedelta(seconds=60)
    # Dramatiq's own worker metrics (its Prometheus middleware): off unless a port is set.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    # Providers. Each channel uses the outbox until a provider is chosen for it.
    sms_provider: Literal["outbox", "twilio"] = "outbox"
    voice_provider: Literal["outbox", "twilio"] = "outbox"
    email_provider: Literal["outbox", "smtp"] = "outbox"
    public_base_url: str | None = Field(
        default=None,
        description="The gateway's public https URL as Twilio calls it (signatures and "
        "status callbacks are built from it)",
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_base_url: str | None = Field(
        default=None, description="Only to point the client at a Twilio-compatible test server"
    )
    twilio_sms_from: str | None = Field(default=None, description="Sender number or short code")
    twilio_messaging_service_sid: str | None = None
    twilio_voice_from: str | None = Field(default=None, description="Caller ID for voice calls")
    twilio_timeout: Duration = dt.timedelta(seconds=10)
    sms_validity: Duration = Field(
        default=dt.timedelta(minutes=30),
        description="Twilio drops an SMS it could not hand to the carrier within this time",
    )
    sms_segments_per_second: float = Field(
        default=1.0, gt=0, description="Per sender: 1 long code, 3 toll-free, 100 short code"
    )
    voice_calls_per_second: float = Field(default=1.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: Duration = dt.timedelta(seconds=15)
    email_from_address: str = "no-reply@rendez-vous.example.org"
    alert_email: str | None = Field(
        default=None, pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$",
        description="On-call address the scheduler emails when an alert rule starts "
        "firing or clears (through the NOTIFIER_SMTP_* relay)",
    )
    delivery_retention: Duration = dt.timedelta(days=30)
    callback_concurrency: int = Field(
        default=4, ge=1, le=64,
        description="Callback attempts in flight to one endpoint at most",
    )
    callback_suspend_after: Duration = Field(
        default=dt.timedelta(days=3),
        description="An endpoint that fails every attempt this long is suspended",
    )
    callback_retention: Duration = Field(
        default=dt.timedelta(days=14),
        description="How long the callback log keeps what booking systems are told (the "
        "feed's reach back, and how long a failed callback can be sent again)",
    )

    # Patients who text back.
    optout_scope: str = Field(
        default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="The sender (short code or Messaging Service) opt-outs apply to",
    )
    twilio_answers_english_keywords: bool = Field(
        default=False,
        description="True when the Twilio account itself answers STOP/START/HELP",
    )
    no_reply_notice_interval: Duration = dt.timedelta(days=1)
    keyword_reply_limit: int = Field(
        default=3, ge=1, le=100,
        description="Answers per number, per keyword kind (STOP, START, HELP, INFO) and "
        "per UTC day; the change a keyword asks for is always made",
    )
    # Three years: the time within which proceedings under Canada's anti-spam law (CASL)
    # can be brought, so the record of an unsubscribe must outlive it.
    optout_audit_retention: Duration = Field(
        default=dt.timedelta(days=1096),
        description="How long opt-out audit entries, and the MessageSids of processed "
        "texts, are kept",
    )

    # The web process's defences against slow and idle clients (see notifier.web.server).
    web_header_timeout: Duration = Field(
        default=dt.timedelta(seconds=10),
        description="A connection must send a whole request head within this time",
    )
    web_body_timeout: Duration = Field(
        default=dt.timedelta(seconds=20),
        description="A request must send its whole body within this time of its head",
    )
    web_max_connections: int = Field(default=500, ge=1, le=100_000)
    web_overload_log_interval: Duration = dt.timedelta(seconds=60)
    web_trusted_proxies: str = Field(
        default="", pattern=r"^[0-9A-Fa-f:.,/ ]*$",
        description="Proxies (IP addresses or networks, comma-separated) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; none by default",
    )

    # Integrators' callbacks (see notifier.callbacks.destination_check).
    callbacks_allow_private: bool = Field(
        default=False,
        description="Allow callback endpoints on http and at private, loopback or link-local "
        "addresses (integrators on the deployment's own network); cloud metadata addresses "
        "stay refused",
    )

    # Operators' console (see Operator above).
    operators: Annotated[tuple[Operator, ...], NoDecode, BeforeValidator(_operators)] = Field(
        default=(), description="name:role:clinic:hash entries separated by ';'"
    )
    console_secret_key: SecretStr | None = Field(
        default=None, description="Signs the console's session cookies (32 characters or more)"
    )
    console_session_hours: int = Field(default=12, ge=1, le=7 * 24)
    console_time_zone: str = Field(default="America/Toronto",
                                   description="Times shown to operators")

    @field_validator("console_secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_CONSOLE_SECRET_LENGTH:
            raise ValueError(f"use at least {MIN_CONSOLE_SECRET_LENGTH} random characters")
        return value

    @field_validator("templates_dir", "alert_email", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty NOTIFIER_TEMPLATES_DIR= would otherwise be "." (whatever the cwd holds);
        # an empty NOTIFIER_ALERT_EMAIL= means no on-call email.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("templates_dir")
    @classmethod
    def _readable_folder(cls, value: Path | None) -> Path | None:
        # The value is a path of the deployment's: checked, never repeated in the error.
        if value is None:
            return None
        if not value.is_dir():
            raise ValueError("must be a folder that exists (the deployment's own templates)")
        if not os.access(value, os.R_OK | os.X_OK):
            raise ValueError("the folder cannot be read by this process's user")
        return value.absolute()

    @field_validator("console_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be a time zone name such as America/Toronto") from None
        return value

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _sentinel_addresses(cls, value: object) -> object:
        return _addresses(value) if isinstance(value, str) else value

    @field_validator("redis_wait_replicas", mode="before")
    @classmethod
    def _auto_replicas(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "auto") else value

    @field_validator("redis_wait_timeout")
    @classmethod
    def _short_wait(cls, value: dt.timedelta) -> dt.timedelta:
        if not dt.timedelta(0) < value <= dt.timedelta(seconds=30):
            raise ValueError("must be between 1s and 30s")
        return value

    @field_validator("redis_ca_file")
    @classmethod
    def _readable_ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no file at {value}; give the CA bundle's path")
        return value

    @model_validator(mode="after")
    def _sentinel_url_names_the_service(self) -> Settings:
        if self.redis_sentinels and self.redis_url:
            host = urlsplit(self.redis_url).hostname
            if host and host != self.redis_sentinel_service.lower():
                raise ValueError(
                    "with NOTIFIER_REDIS_SENTINELS, NOTIFIER_REDIS_URL gives only the "
                    "primary's scheme, password and database; write its host as the "
                    f"service name: redis://:password@{self.redis_sentinel_service}/0")
        return self

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        token = value.get_secret_value() if value is not None else None
        if token is not None and (len(token) < MIN_TOKEN_LENGTH or token != token.strip()):
            raise ValueError(
                f"use at least {MIN_TOKEN_LENGTH} characters, without spaces around it"
            )
        return value

    @model_validator(mode="after")
    def _metrics_token_is_its_own(self) -> Settings:
        # A scraper's secret must not be able to text patients.
        if (self.metrics_token is not None and self.api_token is not None
                and self.metrics_token.get_secret_value() == self.api_token.get_secret_value()):
            raise ValueError("NOTIFIER_METRICS_TOKEN must differ from NOTIFIER_API_TOKEN")
        return self

    @model_validator(mode="after")
    def _console_signs_sessions(self) -> Settings:
        if self.operators and self.console_secret_key is None:
            raise ValueError("NOTIFIER_CONSOLE_SECRET_KEY is required when operators are listed")
        return self

    @model_validator(mode="after")
    def _providers_complete(self) -> Settings:
        needs: list[str] = []
        if "twilio" in (self.sms_provider, self.voice_provider):
            needs += ["twilio_account_sid", "twilio_auth_token", "public_base_url"]
        if self.sms_provider == "twilio" and not self.twilio_messaging_service_sid:
            needs.append("twilio_sms_from")
        if self.voice_provider == "twilio":
            needs.append("twilio_voice_from")
        if self.email_provider == "smtp" or self.alert_email:
            needs.append("smtp_host")
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(
                f"NOTIFIER_{missing[0].upper()} is required by the chosen provider"
                + (" (or by NOTIFIER_ALERT_EMAIL)" if self.alert_email else "")
            )
        return self

    @field_validator("cancel_link_pattern")
    @classmethod
    def _pattern_has_reference(cls, value: str) -> str:
        if "{reference}" not in value:
            raise ValueError("must contain {reference} (and usually {lang})")
        try:
            value.format(reference="0", lang="f")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only use the placeholders {reference} and {lang}") from None
        return value

    @field_validator(
        "optout_audit_retention", "callback_retention", "callback_suspend_after",
        "web_header_timeout",
        "web_body_timeout", "web_overload_log_interval", "worker_summary_interval",
    )
    @classmethod
    def _positive_duration(cls, value: dt.timedelta) -> dt.timedelta:
        if value <= dt.timedelta(0):
            raise ValueError("must be longer than zero, for example 30s")
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _positive_offsets(cls, value: list[dt.timedelta]) -> list[dt.timedelta]:
        if any(offset <= dt.timedelta(0) for offset in value):
            raise ValueError("offsets must be positive, for example 3d,1d")
        return sorted(set(value), reverse=True)

    def window(self, channel: Channel) -> SendingWindow:
        return {
            Channel.SMS: self.window_sms,
            Channel.VOICE: self.window_voice,
            Channel.EMAIL: self.window_email,
        }[channel]

    def fee_notice(self, lang: Lang) -> str:
        return self.fee_notice_fr if lang is Lang.FR else self.fee_notice_en

    def cancel_link(self, reference: str, lang: Lang) -> str:
        code = self.cancel_link_lang_fr if lang is Lang.FR else self.cancel_link_lang_en
        return self.cancel_link_pattern.format(reference=reference, lang=code)

    def require_redis_url(self, process: str) -> str:
        """The Redis URL (with Sentinel, the primary's scheme, password and database), or a
        one-line stop naming the setting."""
        if self.redis_sentinels:
            return self.redis_url or f"redis://{self.redis_sentinel_service}/0"
        if not self.redis_url:
            raise SettingsError(
                f"setting NOTIFIER_REDIS_URL is missing: the {process} needs it (or "
                "NOTIFIER_REDIS_SENTINELS)")
        return self.redis_url

    @property
    def redis_configured(self) -> bool:
        """Whether a Redis is named, by URL or through Sentinel."""
        return bool(self.redis_url or self.redis_sentinels)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a wrong one becomes a one-line SystemExit."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = describe(exc)[0]
        if first["field"] == "(body)":  # a rule across settings names them itself
            raise SettingsError(f"settings are incomplete: {first['message']}") from None
        name = "NOTIFIER_" + first["field"].split(".")[0].upper()
        raise SettingsError(f"setting {name} is wrong: {first['message']}") from None
