"""The redacting formatter keeps patients' data out of every line: messages, tracebacks,
stacks, query strings, Dramatiq's own lines, and what a command or a thread leaves
unhandled."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from email.headerregistry import Address

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from notifier.cli import main
from notifier.logs import redact, redacting_handler

PATIENT = {"first_name": "Émilie", "last_name": "Tremblay", "mobile_phone": "5145550188",
           "email": "emilie.tremblay@example.org"}


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own whose records go only to the gateway's handler, into a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction")
    logger.handlers[:] = [redacting_handler(stream)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()


def test_phone_numbers_and_emails_are_masked_but_keys_and_dates_are_not() -> None:
    line = redact("to +15145550188, (514) 555-0188 or a.b@example.org; "
                  "key 0000000001:reminder:sms:86400:20261201T1430Z at 2026-12-01T09:30:00")
    assert "5550188" not in line and "example.org" not in line
    assert "0000000001:reminder:sms:86400:20261201T1430Z" in line
    assert "2026-12-01T09:30:00" in line


def test_a_query_string_keeps_its_names_and_loses_its_values() -> None:
    line = redact('"GET /console/story?reference=0000000001&token=s3cr3t==&debug HTTP/1.1" 200')
    assert line == ('"GET /console/story?reference=[redacted]&token=[redacted]&debug '
                    'HTTP/1.1" 200')
    assert redact("is it? yes") == "is it? yes"
    assert "b.example" not in redact("GET /v1/x/a%40b.example")


def test_what_a_validation_error_quotes_is_withheld() -> None:
    line = redact("  Value error [type=value_error, input_value={'first_name': 'Émilie'}, "
                  "input_type=dict]")
    assert "Émilie" not in line
    assert "input_value=[redacted], input_type=dict" in line


def test_an_exceptions_text_in_a_traceback_is_redacted(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    try:
        Address(addr_spec="x<reply@evil.example>")
    except ValueError:
        logger.exception("could not build the Reply-To of %s", "0000000001", stack_info=True)

    text = stream.getvalue()
    assert "evil.example" not in text
    assert "Traceback (most recent call last)" in text and "Stack (most recent call last)" in text
    assert "Invalid addr_spec; only 'x' could be parsed from 'x<[email]>'" in text
    assert "could not build the Reply-To of 0000000001" in text


def test_dramatiqs_debug_line_for_an_actor_call_withholds_its_arguments(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    _, stream = written
    broker = StubBroker()
    received: list[object] = []
    actor = dramatiq.Actor(received.append, broker=broker, actor_name="intake_event",
                           queue_name="intake", priority=0, options={})
    actor.logger.handlers[:] = [redacting_handler(stream)]  # named after the actor
    actor.logger.setLevel(logging.DEBUG)
    try:
        actor(PATIENT)
    finally:
        actor.logger.handlers.clear()
        actor.logger.setLevel(logging.NOTSET)
        broker.close()

    text = stream.getvalue()
    assert received == [PATIENT]
    assert "Received args=[arguments withheld] kwargs=[arguments withheld]." in text
    assert not any(str(value) in text for value in PATIENT.values())


def test_a_command_writes_a_stray_warning_through_the_redacting_formatter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    previous = logging.lastResort
    orphan = logging.getLogger("tests.no_handler")  # no handler anywhere: the last resort
    orphan.propagate = False
    try:
        assert main(["--help"]) == 0
        orphan.warning("could not reach %s", "emilie.tremblay@example.org")
    finally:
        logging.lastResort = previous
        orphan.propagate = True
    err = capsys.readouterr().err
    assert "tests.no_handler: could not reach [email]" in err
    assert "example.org" not in err


def test_a_warning_and_an_exception_no_thread_caught_are_logged_redacted() -> None:
    script = (
        "import threading, warnings\n"
        "from notifier.logs import configure_logging\n"
        "configure_logging()\n"
        "warnings.warn('Expected str but got int with value +15145550188')\n"
        "def fail():\n"
        "    raise ValueError('no such mailbox: emilie.tremblay@example.org')\n"
        "thread = threading.Thread(target=fail, name='sender')\n"
        "thread.start(); thread.join()\n"
        "fail()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)

    assert done.returncode == 1
    assert "example.org" not in done.stderr and "5550188" not in done.stderr
    assert "WARNING MainProcess py.warnings" in done.stderr
    assert "uncaught exception in thread sender" in done.stderr
    assert "uncaught exception in the main thread" in done.stderr
    assert done.stderr.count("ValueError: no such mailbox: [email]") == 2
