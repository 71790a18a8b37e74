"""The Twilio REST client as the gateway uses it: a timeout, no retries, honest errors.

``twilio.rest.Client`` builds the requests and reads the answers; the exchange itself goes
through :class:`~notifier.channels.twilio.http_client.GatewayHttpClient`, where every
request has the configured timeout and no HTTP-level retry at all (a create re-sent on
failure would send the same SMS twice); retries are the send step's decision. Every
failure of a create becomes a :class:`DeliveryError`:

- an answer with an error (4xx, 5xx) is classified by
  :mod:`notifier.channels.twilio.errors`; a 5xx is *ambiguous*: Twilio may have created
  the message before failing;
- no connection at all (refused, DNS, connect timeout) is *transient*: the request
  never left, so sending again cannot double the message;
- a connection lost or a read timeout after the request was written is *ambiguous*.

A lookup of the recipient's latest messages or calls (:func:`look_up_twilio`, asked
before a message is sent again) fails the same ways; there, whatever asking again may
mend is *ambiguous*: the earlier attempt's fate is still unknown.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationValueError,
    ReadTimeoutError,
)

from notifier.channels.twilio.errors import classify, explain
from notifier.channels.twilio.http_client import GatewayHttpClient
from notifier.domain import Lang
from notifier.errors import DeliveryError, FailureClass
from notifier.settings import Settings

T = TypeVar("T")

# A request waits at most the timeout to connect, to write and to read.
TIMEOUTS_PER_REQUEST = 3


def request_bound(timeout: dt.timedelta) -> dt.timedelta:
    """The longest one request to Twilio may take, given the REST client's ``timeout``
    (``twilio_timeout``)."""
    return timeout * TIMEOUTS_PER_REQUEST


def build_twilio_client(settings: Settings) -> Client:
    """A Twilio REST client for the configured account, with the configured timeout and API
    address, and no retries."""
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        raise ValueError("Twilio is not configured: account SID and auth token are needed")
    http = GatewayHttpClient(
        timeout=settings.twilio_timeout.total_seconds(), base_url=settings.twilio_api_base_url
    )
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=http,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked for by a ``Retry-After`` header: a number of seconds, or an HTTP
    date read against the answer's own ``Date`` header (no clock needed)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    value = lowered.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "inf" and "nan" parse as floats; no server means either
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        until = email.utils.parsedate_to_datetime(value)
        sent = email.utils.parsedate_to_datetime(lowered.get("date", ""))
    except (TypeError, ValueError):
        return None
    return max(0.0, (until - sent).total_seconds())


def call_twilio(twilio: Client, create: Callable[[], T], *, what: str) -> T:
    """Run one create call (``what`` names it in errors, e.g. ``"SMS"``), or a list call,
    and turn every failure into a :class:`DeliveryError`."""
    try:
        return create()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _refused(exc, twilio) from None
    except LocationValueError:
        raise  # a malformed API address: no exchange was tried
    except HTTPError as exc:  # urllib3's: no answer could be read
        # NewConnectionError (refused, DNS) is a ConnectTimeoutError too.
        if isinstance(exc, ConnectTimeoutError):
            raise DeliveryError(
                FailureClass.TRANSIENT, "connection",
                f"could not connect to Twilio to create the {what}; nothing was sent",
            ) from None
        code = "timeout" if isinstance(exc, ReadTimeoutError) else "connection-lost"
        raise DeliveryError(
            FailureClass.AMBIGUOUS, code,
            f"Twilio did not answer the {what} create in time or the connection broke: "
            "it may have been created",
        ) from None
    except TwilioException as exc:  # a list's error answer, or one that is not JSON
        refused = _answer_refused(exc)
        if refused is not None:
            raise refused from None
        raise DeliveryError(
            FailureClass.AMBIGUOUS, "bad-answer",
            f"Twilio's answer to the {what} create could not be read "
            f"({type(exc).__name__}): it may have been created",
        ) from None


# How many of the recipient's latest messages or calls a lookup reads: more than we ever
# send one number in an attempt's span.
LOOKUP_LIMIT = 20
# Allowance for the clocks of Twilio and of our hosts, and for Twilio's whole seconds.
CLOCK_MARGIN = dt.timedelta(seconds=30)


def created_within(created: dt.datetime | None, between: tuple[dt.datetime, dt.datetime]) -> bool:
    """True when a resource Twilio created at ``created`` may be an attempt's made
    ``between`` those times."""
    start, end = between
    return created is not None and start - CLOCK_MARGIN <= created <= end + CLOCK_MARGIN


def look_up_twilio(twilio: Client, lookup: Callable[[], T], *, what: str) -> T:
    """Run one list call (``what`` names what is looked for, e.g. ``"SMS"``) through
    :func:`call_twilio`. Any failure that asking again may mend (a timeout, a 5xx, a 429)
    leaves the earlier attempt's fate unknown: it is raised as *ambiguous*, so the message
    is neither sent again nor given up, only asked about again later. A refusal of our
    account stays what it is."""
    try:
        return call_twilio(twilio, lookup, what=what)
    except DeliveryError as error:
        if error.failure in (FailureClass.PERMANENT, FailureClass.CONFIGURATION):
            raise
        raise DeliveryError(
            FailureClass.AMBIGUOUS, error.code,
            f"Twilio could not say whether it took the {what} ({error.code}); asked again "
            "later", retry_after=error.retry_after,
        ) from None


def _answer_refused(exc: TwilioException) -> DeliveryError | None:
    """A list answered with an error: the twilio library raises ``Unable to fetch page``
    with the answer itself as the second argument. None for any other exception."""
    response = exc.args[1] if len(exc.args) > 1 else None
    if not isinstance(response, Response):
        return None
    try:
        code = json.loads(response.text).get("code")
    except (ValueError, AttributeError):
        code = None
    code = code if isinstance(code, int) and code >= 10000 else None
    status = response.status_code
    return DeliveryError(classify(status, code),
                         str(code) if code is not None else f"http-{status}",
                         explain(code, Lang.EN, http_status=status),
                         retry_after=retry_after(dict(response.headers or {})))


def _refused(exc: TwilioRestException | TwilioServiceException, twilio: Client) -> DeliveryError:
    status = int(exc.status) if exc.status is not None else None
    code = int(exc.code) if isinstance(exc.code, int) and exc.code >= 10000 else None
    failure = classify(status, code)
    wait = None
    http = twilio.http_client
    # A 429 or a 503 may say when to come back; either may be asked again.
    if failure in (FailureClass.TRANSIENT, FailureClass.AMBIGUOUS) and isinstance(
        http, GatewayHttpClient
    ):
        wait = retry_after(http.last_headers())
    return DeliveryError(
        failure,
        str(code) if code is not None else f"http-{status}",
        explain(code, Lang.EN, http_status=status),
        retry_after=wait,
        opted_out=code == 21610,
    )

