"""``notifier integrators ...`` against the tests' own Redis."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re

import pytest
import redis

from notifier.cli import main
from notifier.clock import utc_now
from notifier.settings import Settings
from notifier.store.integrators import IntegratorStore

PLATEAU, VERDUN = "clinique-plateau", "clinique-verdun"
URL = "https://agenda.example/hooks"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)


@pytest.fixture
def store(redis_client: redis.Redis) -> IntegratorStore:
    return IntegratorStore(redis_client, Settings())


def printed(pattern: str, out: str) -> str:
    found = re.search(pattern, out)
    assert found is not None, out
    return found[1]


def add(capsys: pytest.CaptureFixture[str], *locations: str) -> str:
    arguments = [part for location in locations for part in ("--location", location)]
    assert main(["integrators", "add", "agenda-plus", "Agenda Plus", *arguments]) == 0
    return printed(r"its API token: (ntk_\S+)", capsys.readouterr().out)


def test_add_prints_the_token_once_and_records_the_operator(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    token = add(capsys, PLATEAU, VERDUN)

    credential = store.authenticate(token, now=utc_now())
    assert credential is not None and credential.locations == {PLATEAU, VERDUN}
    (entry,) = store.audit()
    assert (entry.action, entry.actor, entry.integrator) == ("add", getpass.getuser(),
                                                             "agenda-plus")
    for command in (["list"], ["list", "--json"], ["show", "agenda-plus"],
                    ["show", "agenda-plus", "--json"], ["audit"], ["audit", "--json"]):
        assert main(["integrators", *command]) == 0
        out = capsys.readouterr().out
        assert "agenda-plus" in out
        assert token not in out and token[-20:] not in out


def test_list_and_show_say_what_there_is(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["integrators", "list"]) == 0
    assert capsys.readouterr().out.strip() == "No integrators."
    add(capsys, PLATEAU)

    assert main(["integrators", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert main(["integrators", "show", "agenda-plus"]) == 0
    shown = capsys.readouterr().out

    assert (listed["id"], listed["name"], listed["locations"]) == (
        "agenda-plus", "Agenda Plus", [PLATEAU])
    assert f"locations: {PLATEAU}" in shown and "no callback endpoints" in shown


def test_rotate_token_keeps_the_old_one_for_the_overlap(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    old = add(capsys, PLATEAU)

    assert main(["integrators", "rotate-token", "agenda-plus", "--overlap", "2h"]) == 0
    out = capsys.readouterr().out
    new = printed(r"its new API token: (ntk_\S+)", out)

    now = utc_now()
    assert "the previous one works until" in out
    assert store.authenticate(new, now=now) is not None
    assert store.authenticate(old, now=now) is not None
    assert store.authenticate(old, now=now + dt.timedelta(hours=2, minutes=1)) is None
    assert main(["integrators", "show", "agenda-plus"]) == 0
    assert "previous token works until" in capsys.readouterr().out
    assert store.audit()[0].action == "rotate_token"


def test_set_locations_and_remove(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str],
) -> None:
    token = add(capsys, PLATEAU)

    assert main(["integrators", "set-locations", "agenda-plus", "--location", VERDUN]) == 0
    assert f"now acts for {VERDUN}" in capsys.readouterr().out
    assert store.require("agenda-plus").locations == {VERDUN}
    assert main(["integrators", "remove", "agenda-plus"]) == 0
    assert store.get("agenda-plus") is None
    assert store.authenticate(token, now=utc_now()) is None
    assert [e.action for e in store.audit()] == ["remove", "set_locations", "add"]


def test_endpoint_flow(store: IntegratorStore, capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, PLATEAU)

    assert main(["integrators", "endpoint", "add", "agenda-plus", URL,
                 "--type", "message.failed", "--type", "message.delivered"]) == 0
    out = capsys.readouterr().out
    endpoint = printed(r"added endpoint (ep_\w+)", out)
    secret = printed(r"its signing secret: (whsec_\S+)", out)
    assert [e.secrets for e in store.endpoints_for(PLATEAU, "message.failed")] == [(secret,)]

    assert main(["integrators", "endpoint", "rotate-secret", endpoint]) == 0
    new_secret = printed(r"its new signing secret: (whsec_\S+)", capsys.readouterr().out)
    assert main(["integrators", "endpoint", "disable", endpoint, "--reason", "moving"]) == 0
    assert "is now disabled" in capsys.readouterr().out
    assert store.endpoints_for(PLATEAU, "message.failed") == []
    assert main(["integrators", "endpoint", "list", "agenda-plus", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert main(["integrators", "endpoint", "enable", endpoint]) == 0
    (found,) = store.endpoints_for(PLATEAU, "message.delivered")
    assert main(["integrators", "audit", "--integrator", "agenda-plus"]) == 0
    audit = capsys.readouterr().out
    assert main(["integrators", "endpoint", "remove", endpoint]) == 0

    assert listed == {"id": endpoint, "integrator": "agenda-plus", "url": URL,
                      "types": ["message.delivered", "message.failed"], "state": "disabled",
                      "signing_secrets": 2}
    assert found.secrets == (new_secret, secret)
    assert "reason=moving" in audit and "endpoint_state" in audit
    for private in (secret, new_secret):
        assert private not in audit and private not in json.dumps(listed)
    assert store.get_endpoint(endpoint) is None


@pytest.mark.parametrize(("command", "says"), [
    (["show", "nobody"], "no integrator 'nobody' (see 'notifier integrators list')"),
    (["rotate-token", "nobody"], "no integrator 'nobody'"),
    (["add", "Agenda", "x", "--location", PLATEAU], "invalid integrator id 'Agenda'"),
    (["add", "agenda-plus", "x", "--location", "Plateau"], "invalid location id 'Plateau'"),
    (["add", "agenda-plus", " ", "--location", PLATEAU], "name must be 1 to 100"),
    (["add", "taken", "x", "--location", PLATEAU], "'taken' already exists"),
    (["rotate-token", "taken", "--overlap", "soon"], "the overlap 'soon' is not a duration"),
    (["rotate-token", "taken", "--overlap", "90d"], "the overlap must be from 0s to 30d"),
    (["endpoint", "add", "taken", "http://agenda.example/hooks"], "must start with https://"),
    (["endpoint", "add", "taken", URL, "--type", "message.read"], "unknown event type"),
    (["endpoint", "add", "nobody", URL], "no integrator 'nobody'"),
    (["endpoint", "disable", "ep_nothing"], "no endpoint 'ep_nothing'"),
    (["endpoint", "remove", "agenda"], "endpoint ids start with ep_"),
])
def test_refusals_are_one_line_and_exit_2(
    store: IntegratorStore, capsys: pytest.CaptureFixture[str], command: list[str], says: str,
) -> None:
    assert main(["integrators", "add", "taken", "Taken", "--location", PLATEAU]) == 0
    capsys.readouterr()
    audited = len(store.audit())

    assert main(["integrators", *command]) == 2

    out, err = capsys.readouterr()
    assert says in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("notifier: ")
    assert out == ""
    assert len(store.audit()) == audited
