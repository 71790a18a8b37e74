"""What an operator may give for an integrator or an endpoint, checked before anything is
stored. Each refusal is one sentence an operator can act on; none repeats a URL (it may
hold a key of the integrator's)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from notifier.domain import LOCATION_ID
from notifier.errors import IntegratorProblem
from notifier.integrators.credentials import ENDPOINT_PREFIX
from notifier.integrators.model import EVENT_TYPES

INTEGRATOR_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
ENDPOINT_ID = re.compile(re.escape(ENDPOINT_PREFIX) + r"[a-z0-9]{1,40}")
MAX_NAME = 100
MAX_URL = 2000
MAX_OVERLAP = dt.timedelta(days=30)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

__all__ = ["IntegratorProblem"]


def integrator_id(text: str) -> str:
    """``text`` if it can name an integrator."""
    if not INTEGRATOR_ID.fullmatch(text):
        raise IntegratorProblem(
            f"invalid integrator id {text[:50]!r}: write 1 to 40 lowercase letters, digits or "
            "'-', starting with a letter or digit, for example agenda-plus"
        )
    return text


def endpoint_id(text: str) -> str:
    """``text`` if it can name an endpoint."""
    if not ENDPOINT_ID.fullmatch(text):
        raise IntegratorProblem(
            f"invalid endpoint id {text[:50]!r}: endpoint ids start with {ENDPOINT_PREFIX} "
            "(see 'notifier integrators endpoint list')"
        )
    return text


def integrator_name(text: str) -> str:
    """``text`` without its outer spaces, if it can be an integrator's name."""
    name = text.strip()
    if not name or len(name) > MAX_NAME or _CONTROL.search(name):
        raise IntegratorProblem(
            f"the integrator's name must be 1 to {MAX_NAME} characters on one line"
        )
    return name


def location_ids(values: Iterable[str]) -> frozenset[str]:
    """The location ids given, at least one, each a valid location id."""
    locations = frozenset(values)
    if not locations:
        raise IntegratorProblem("give at least one location (--location <location id>)")
    for location in sorted(locations):
        if not LOCATION_ID.fullmatch(location):
            raise IntegratorProblem(
                f"invalid location id {location[:70]!r}: write 1 to 64 lowercase letters, "
                "digits, '-' or '_', as events carry it (appointment.location.id)"
            )
    return locations


def endpoint_url(text: str, *, allow_http: bool = False) -> str:
    """``text`` if callbacks may be sent to it: an absolute https URL (or http, with
    ``allow_http``: ``NOTIFIER_CALLBACKS_ALLOW_PRIVATE``, for a receiver on the
    deployment's own network) with a host, no user name or password, no fragment, at most
    :data:`MAX_URL` characters."""
    if len(text) > MAX_URL:
        raise IntegratorProblem(f"the endpoint URL is longer than {MAX_URL} characters")
    if _CONTROL.search(text) or " " in text:
        raise IntegratorProblem("the endpoint URL holds spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise IntegratorProblem("the endpoint URL cannot be read as a URL") from None
    if parts.scheme.lower() != "https" and not (allow_http and parts.scheme.lower() == "http"):
        raise IntegratorProblem(
            "the endpoint URL must start with https:// (callbacks are never sent in clear; "
            "http:// only where NOTIFIER_CALLBACKS_ALLOW_PRIVATE=true)"
        )
    if not parts.hostname:
        raise IntegratorProblem("the endpoint URL has no host: write https://<host>/<path>")
    if parts.username is not None or parts.password is not None:
        raise IntegratorProblem(
            "the endpoint URL must not hold a user name or password; callbacks are signed "
            "with the endpoint's secret instead"
        )
    if parts.fragment or text.endswith("#"):
        raise IntegratorProblem("the endpoint URL must not end with a #fragment")
    if port == 0:
        raise IntegratorProblem("the endpoint URL's port must be from 1 to 65535")
    return text


def known_event_types(values: Iterable[str]) -> frozenset[str]:
    """The event types given (maybe none), each a known one."""
    types = frozenset(values)
    unknown = sorted(types - set(EVENT_TYPES))
    if unknown:
        raise IntegratorProblem(
            f"unknown event type {unknown[0][:50]!r}: choose among {', '.join(EVENT_TYPES)}"
        )
    return types


def event_types(values: Iterable[str]) -> frozenset[str]:
    """The event types given, every known type when none is given."""
    return known_event_types(values) or frozenset(EVENT_TYPES)


def overlap(value: dt.timedelta) -> dt.timedelta:
    """How long a replaced token or secret stays valid: from none to :data:`MAX_OVERLAP`."""
    if not dt.timedelta(0) <= value <= MAX_OVERLAP:
        raise IntegratorProblem(
            f"the overlap must be from 0s to {MAX_OVERLAP.days}d (the old credential keeps "
            "working that long)"
        )
    return value
