"""Recipients shown to operators are masked (notifier.privacy)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notifier.privacy import mask_address


def test_phone_numbers_keep_the_country_code_and_last_three_digits() -> None:
    assert mask_address("+15145550123") == "+1•••••••123"
    assert mask_address("+33612345678") == "+3•••••••678"


def test_emails_keep_the_first_letter_and_the_domain() -> None:
    assert mask_address("jane.doe@example.org") == "j•••@example.org"
    assert mask_address("j@example.org") == "j•••@example.org"


def test_anything_else_keeps_one_character() -> None:
    assert mask_address("5550123") == "5•••"


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_a_masked_phone_never_shows_the_subscriber_number(phone: str) -> None:
    masked = mask_address(phone)
    assert len(masked) == len(phone)
    assert phone[2:-3] not in masked
    assert sum(c.isdigit() for c in masked) == 4


@given(st.emails())
def test_a_masked_email_never_shows_the_local_part(email: str) -> None:
    local = email.rpartition("@")[0]
    masked = mask_address(email)
    assert masked.endswith("@" + email.rpartition("@")[2])
    assert masked.startswith(local[0] + "•••@")
