"""The console's pure parts: password hashes, the operators setting, sessions, the
catalogue and the charts (no Redis, no HTTP)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain import Lang
from notifier.errors import SettingsError
from notifier.settings import load_settings
from notifier.web.console import i18n
from notifier.web.console.charts import CHANNEL_COLOURS, Bar, _nice_ceiling, stacked_bars
from notifier.web.console.passwords import hash_password, verify_password
from notifier.web.console.session import Session, SessionCodec
from notifier.web.console.throttle import Backoff, Tally, address_group, admit

# Cheap scrypt parameters: these tests check the format, not the cost.
CHEAP = {"n": 2, "r": 1, "p": 1}
NOW = dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC)
TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_a_password_verifies_against_its_hash_and_nothing_else() -> None:
    stored = hash_password("correct horse battery", **CHEAP)
    assert re.fullmatch(r"scrypt\.2\.1\.1\.[0-9a-f]{32}\.[0-9a-f]{64}", stored)
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("correct horse battery", "not a hash")
    assert hash_password("same", **CHEAP) != hash_password("same", **CHEAP)  # salted


def test_the_operators_setting_is_read_into_operators() -> None:
    digest = hash_password("x" * 12, **CHEAP)
    settings = load_settings(operators=f"alice:admin:*:{digest}; bob:viewer:plateau:{digest}",
                             console_secret_key="s" * 32)
    alice, bob = settings.operators
    assert (alice.name, alice.role, alice.location, alice.is_admin) == ("alice", "admin",
                                                                       None, True)
    assert (bob.name, bob.role, bob.location, bob.is_admin) == ("bob", "viewer", "plateau",
                                                              False)
    assert digest not in repr(settings.operators)


@pytest.mark.parametrize(("value", "message"), [
    ("alice:admin:*", "entry 1 must be name:role:clinic:hash"),
    ("alice:root:*:{h}", "entry 1 (alice): the role must be viewer or admin"),
    ("alice:admin:*:plaintext-password", "entry 1 (alice): the hash must come from"),
    ("alice:admin:*:{h};alice:viewer:*:{h}", "entry 2: alice is listed twice"),
    ("al ice:admin:*:{h}", "entry 1: a name is"),
    ("alice:viewer:Plateau:{h}", "entry 1 (alice): the clinic must be a location id or *"),
    ("alice:viewer:*plateau:{h}", "entry 1 (alice): the clinic must be a location id or *"),
])
def test_a_wrong_operators_setting_stops_with_one_line_naming_it(value: str,
                                                                 message: str) -> None:
    digest = hash_password("x" * 12, **CHEAP)
    with pytest.raises(SettingsError) as stop:
        load_settings(operators=value.format(h=digest), console_secret_key="s" * 32)
    line = str(stop.value)
    assert line.startswith("setting NOTIFIER_OPERATORS is wrong: ") and message in line
    assert "\n" not in line and digest not in line


def test_operators_need_a_long_enough_secret_key() -> None:
    digest = hash_password("x" * 12, **CHEAP)
    with pytest.raises(SettingsError, match="NOTIFIER_CONSOLE_SECRET_KEY is required"):
        load_settings(operators=f"alice:admin:*:{digest}")
    with pytest.raises(SettingsError, match="setting NOTIFIER_CONSOLE_SECRET_KEY is wrong"):
        load_settings(operators=f"alice:admin:*:{digest}", console_secret_key="short")
    with pytest.raises(SettingsError, match="NOTIFIER_CONSOLE_TIME_ZONE"):
        load_settings(console_time_zone="Mars/Olympus")


def test_a_session_reads_back_only_signed_and_unexpired() -> None:
    codec = SessionCodec(b"k" * 32)
    session = Session.fresh(NOW, dt.timedelta(hours=12), lang=Lang.EN)
    value = codec.encode(session)

    back = codec.decode(value, NOW + dt.timedelta(hours=1))
    assert back == session
    assert codec.decode(value, NOW + dt.timedelta(hours=12)) is None  # expired
    assert SessionCodec(b"j" * 32).decode(value, NOW) is None  # another key
    assert codec.decode("garbage", NOW) is None and codec.decode(None, NOW) is None


@given(st.text(max_size=80))
def test_any_altered_cookie_is_refused(tail: str) -> None:
    codec = SessionCodec(b"k" * 32)
    value = codec.encode(Session.fresh(NOW, dt.timedelta(hours=1)))
    altered = value + tail
    if altered != value:
        assert codec.decode(altered, NOW) is None


def test_the_wait_doubles_past_the_free_failures_up_to_its_cap() -> None:
    backoff = Backoff(free=3)
    waits = [backoff.after(n).total_seconds() for n in range(12)]
    assert waits == [0, 0, 0, 0.25, 0.5, 1, 2, 4, 8, 10, 10, 10]
    assert backoff.after(10**6) == backoff.cap


def test_an_attempt_is_counted_before_it_is_checked_and_waits_hold_it_back() -> None:
    free, held = Tally(), Tally(failures=3, not_before=NOW + dt.timedelta(seconds=2))
    wait, counted = admit([(free, Backoff(free=1)), (Tally(), Backoff(free=5))], NOW)
    assert wait == dt.timedelta(0)
    assert counted == (Tally(1, NOW + dt.timedelta(milliseconds=250)), Tally(1, NOW))
    wait, unchanged = admit([(free, Backoff(free=1)), (held, Backoff(free=5))], NOW)
    assert wait == dt.timedelta(seconds=2) and unchanged == (free, held)


@pytest.mark.parametrize(("address", "group"), [
    ("203.0.113.9", "203.0.113.9"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("testclient", "testclient"),
])
def test_ipv6_addresses_count_per_64(address: str, group: str) -> None:
    assert address_group(address) == group


@pytest.mark.parametrize(("header", "lang"), [
    (None, Lang.FR), ("", Lang.FR), ("en-CA,en;q=0.9,fr;q=0.8", Lang.EN),
    ("fr-CA,fr;q=0.9,en;q=0.8", Lang.FR), ("de-DE,en;q=0.5", Lang.EN),
    ("de-DE", Lang.FR), ("en;q=0.2, fr;q=0.7", Lang.FR), ("en;q=0, fr;q=0.1", Lang.FR),
])
def test_the_browser_language_decides_until_the_operator_chooses(header: str | None,
                                                                 lang: Lang) -> None:
    assert i18n.negotiate(header) is lang


def test_every_catalogue_key_used_by_a_template_exists_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z_.]+)["']""", template.read_text()))
    sources = Path(i18n.__file__).parent.glob("*.py")
    for source in sources:
        used |= set(re.findall(r"""words\(["']([a-z_.]+)["']""", source.read_text()))
    assert used, "no catalogue keys found"
    # Keys built in a template ("period." + p) are prefixes: some key must start with them.
    missing = sorted(key for key in used if key not in i18n.CATALOGUE
                     and not (key.endswith(".") and any(k.startswith(key) for k in i18n.CATALOGUE)))
    assert missing == []
    for key, (french, english) in i18n.CATALOGUE.items():
        assert french.strip() and english.strip(), key
        assert set(re.findall(r"{(\w+)}", french)) == set(re.findall(r"{(\w+)}", english)), key
        assert "'" not in french, f"{key}: use the typographic apostrophe ’ in French"


def test_times_read_as_in_quebec_and_in_english_canada() -> None:
    zone = i18n.ZoneInfo("America/Toronto")
    at = dt.datetime(2026, 11, 24, 20, 5, tzinfo=dt.UTC)
    assert i18n.Words(Lang.FR, zone=zone).when(at) == "24 nov. 2026, 15 h 05 HNE"
    assert i18n.Words(Lang.EN, zone=zone).when(at).startswith("Nov 24, 2026, 3:05")
    assert i18n.Words(Lang.FR, zone=zone).percent(0.973) == "97,3\xa0%"
    assert i18n.Words(Lang.EN, zone=zone).percent(0.973) == "97.3%"


def test_a_chart_scales_to_its_tallest_bar_and_escapes_its_labels() -> None:
    svg = str(stacked_bars(
        [Bar("<b>9 h</b>", {"sms": 3, "email": 1}), Bar("10 h", {"sms": 0})],
        series=["email", "sms"], names={"sms": "texto", "email": "courriel"},
        title="Envois & échecs", empty="Rien", colours=CHANNEL_COLOURS,
    ))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg and "&lt;b&gt;9 h&lt;/b&gt;" in svg
    assert 'aria-label="Envois &amp; échecs"' in svg
    assert svg.count("<rect") == 2 + 2  # two segments, two legend swatches
    assert ">5<" in svg  # the axis top: 4 rounded up to 5
    assert "Rien" not in svg
    assert "Rien" in str(stacked_bars([Bar("a", {})], series=["sms"], names={}, title="t",
                                      empty="Rien", colours=CHANNEL_COLOURS))


@given(st.integers(min_value=1, max_value=10**9))
def test_the_axis_top_is_a_round_number_at_or_above_the_tallest(value: int) -> None:
    top = _nice_ceiling(value)
    assert top >= value and top < value * 5
    assert str(top).rstrip("0") in ("1", "2", "5")
