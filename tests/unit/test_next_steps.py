"""What an operator does next, for every public reason."""

from __future__ import annotations

from notifier.message_list import normal_address
from notifier.next_steps import NEXT_STEPS, next_step
from notifier.planning.reasons import Reason
from notifier.public_status import ProviderReason


def test_every_public_reason_has_a_next_step_in_both_languages() -> None:
    reasons = {str(r) for r in Reason} | {str(r) for r in ProviderReason}
    assert reasons <= NEXT_STEPS.keys()
    for reason in reasons:
        step = next_step(reason)
        assert step is not None and step.fr and step.en and step.fr != step.en
        assert "'" not in step.fr, f"{reason}: French uses the typographic apostrophe"


def test_a_landline_asks_for_a_mobile_and_a_cancellation_asks_nothing() -> None:
    landline = next_step("landline")
    assert landline is not None and landline.en.startswith("Ask the patient for a mobile")
    cancelled = next_step("cancelled")
    assert cancelled is not None and cancelled.en.startswith("Nothing to do")
    assert next_step(None) is None
    newer = next_step("a_reason_from_a_newer_gateway")
    assert newer is not None and "story" in newer.en


def test_an_address_typed_by_an_operator_is_put_in_its_planned_form() -> None:
    assert normal_address("514 555-0188") == "+15145550188"
    assert normal_address("(514) 555-0188") == "+15145550188"
    assert normal_address("+1 514-555-0188") == "+15145550188"
    assert normal_address("  Jf.Gagnon@Example.NET ") == "jf.gagnon@example.net"
    assert normal_address("555-01") is None
    assert normal_address("not an address") is None
    assert normal_address("a@b") is None
