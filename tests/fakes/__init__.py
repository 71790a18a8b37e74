"""Real providers on loopback for tests: a Twilio-compatible HTTP server and an SMTP server.

- :mod:`tests.fakes.twilio_server`: :class:`FakeTwilio`, :class:`Outcome`, :func:`rebase`,
  :func:`twilio_client_for`.
- :mod:`tests.fakes.smtp_server`: :class:`FakeSmtp`, :class:`Received`.
- :mod:`tests.fakes.conftest_fixtures`: the ``fake_twilio`` and ``fake_smtp`` fixtures; import
  them into a ``conftest.py``.
"""

from tests.fakes.smtp_server import FakeSmtp, Received
from tests.fakes.twilio_server import FakeTwilio, Outcome, Record, rebase, twilio_client_for

__all__ = [
    "FakeSmtp",
    "FakeTwilio",
    "Outcome",
    "Received",
    "Record",
    "rebase",
    "twilio_client_for",
]
