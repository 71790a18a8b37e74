"""pytest fixtures for the loopback providers. Import them into a ``conftest.py``::

    from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio  # noqa: F401

Both are function-scoped: started before the test, stopped (threads joined, port freed)
after it. The account SID and auth token are on the fake (``fake_twilio.account_sid``,
``fake_twilio.auth_token``); ``fake_smtp`` is plain SMTP without AUTH. Tests that need AUTH
or TLS build their own ``FakeSmtp(...)`` in a ``with`` block, or use ``smtp_server_factory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running :class:`FakeTwilio` with a fresh account SID and auth token."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    """A running :class:`FakeSmtp`: no AUTH, no TLS."""
    with FakeSmtp() as fake:
        yield fake


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., FakeSmtp]]:
    """Starts ``FakeSmtp(**options)`` servers, all stopped after the test. TLS servers
    need the ``openssl`` tool: without it the test is skipped."""
    with ExitStack() as stack:

        def start(**options: Any) -> FakeSmtp:
            try:
                return stack.enter_context(FakeSmtp(**options))
            except FileNotFoundError as error:
                pytest.skip(str(error))

        yield start
