"""The settings that name Redis: a URL, or sentinels and their service; and how long an
acknowledged write waits for its replicas. A wrong one stops the process with one line
naming it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from notifier.errors import SettingsError
from notifier.settings import load_settings


def test_sentinels_are_host_port_pairs() -> None:
    settings = load_settings(redis_sentinels=" 10.0.0.11:26379, sentinel-b:26380,[::1]:26381 ")

    assert settings.redis_sentinels == (("10.0.0.11", 26379), ("sentinel-b", 26380),
                                        ("::1", 26381))
    assert settings.redis_configured and settings.redis_url is None


@pytest.mark.parametrize("listed", ["10.0.0.11", "10.0.0.11:", ":26379", "host:port",
                                    "10.0.0.11:70000"])
def test_a_sentinel_without_a_port_stops_the_process_naming_the_setting(listed: str) -> None:
    with pytest.raises(SettingsError, match=r"setting NOTIFIER_REDIS_SENTINELS is wrong: .*"
                                            r"host:port"):
        load_settings(redis_sentinels=listed)


def test_with_sentinels_the_url_gives_only_the_primarys_password_and_database() -> None:
    settings = load_settings(redis_sentinels="10.0.0.11:26379",
                             redis_url="rediss://:secret@notifier/2")
    assert settings.require_redis_url("worker") == "rediss://:secret@notifier/2"
    assert load_settings(redis_sentinels="10.0.0.11:26379").require_redis_url(
        "worker") == "redis://notifier/0"

    with pytest.raises(SettingsError, match="write its host as the service name: "
                                            "redis://:password@notifier/0"):
        load_settings(redis_sentinels="10.0.0.11:26379", redis_url="redis://10.0.0.5:6379/0")


def test_without_url_or_sentinels_a_process_stops_naming_both() -> None:
    with pytest.raises(SettingsError, match=r"NOTIFIER_REDIS_URL is missing: the scheduler "
                                            r"needs it \(or NOTIFIER_REDIS_SENTINELS\)"):
        load_settings().require_redis_url("scheduler")


def test_replicas_default_to_auto_and_the_wait_to_two_seconds() -> None:
    assert load_settings().redis_wait_replicas is None
    assert load_settings(redis_wait_replicas="auto").redis_wait_replicas is None
    assert load_settings(redis_wait_replicas="2").redis_wait_replicas == 2
    assert load_settings().redis_wait_timeout == dt.timedelta(seconds=2)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("redis_wait_replicas", "-1", "NOTIFIER_REDIS_WAIT_REPLICAS"),
    ("redis_wait_replicas", "many", "NOTIFIER_REDIS_WAIT_REPLICAS"),
    ("redis_wait_timeout", "0s", "NOTIFIER_REDIS_WAIT_TIMEOUT is wrong: must be between"),
    ("redis_wait_timeout", "2m", "NOTIFIER_REDIS_WAIT_TIMEOUT is wrong: must be between"),
    ("redis_sentinel_service", "my master", "NOTIFIER_REDIS_SENTINEL_SERVICE"),
    ("redis_ca_file", "/nowhere/ca.pem", "NOTIFIER_REDIS_CA_FILE is wrong: no file at"),
])
def test_a_wrong_redis_setting_stops_the_process_naming_it(name: str, value: str,
                                                          says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        load_settings(**{name: value})


def test_a_ca_bundle_is_a_file(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")

    assert load_settings(redis_ca_file=str(bundle)).redis_ca_file == bundle
