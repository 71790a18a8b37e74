"""The Lua scripts as the package ships them (``notifier/store/scripts/``)."""

from __future__ import annotations

import re
from importlib.resources import files

from notifier.delivery_status import RANK, DeliveryStatus
from notifier.planning.reasons import Reason
from notifier.public_status import PublicStatus, public_status
from notifier.store.lua import script_source
from notifier.store.message_index import FROM_RECORD


def test_the_delivery_script_ranks_statuses_as_the_delivery_log_does() -> None:
    found = re.search(r"local ranks = \{(.*?)\}", script_source("delivery_advance"), re.S)
    assert found is not None
    ranks = {name: int(rank) for name, rank in re.findall(r"\['(\w+)'\] = (\d+)", found[1])}
    assert ranks == {str(status): rank for status, rank in RANK.items()}


def test_the_reopen_script_reopens_the_failures_the_send_step_names() -> None:
    source = script_source("delivery_reopen")
    reasons = set(re.findall(r"reason ~= '(\w+)'", source))
    assert reasons == {Reason.RETRIES_EXHAUSTED, Reason.INTERRUPTED}


def test_a_shared_step_is_written_once_and_taken_in_by_each_script_that_needs_it() -> None:
    scripts = files("notifier.store") / "scripts"
    names = [path.name.removesuffix(".lua") for path in scripts.iterdir()
             if path.name.endswith(".lua")]
    sources = {name: script_source(name) for name in names}
    assert all("--! include" not in source for source in sources.values())

    def defining(function: str) -> dict[str, int]:
        found = {name: source.count(f"local function {function}(")
                 for name, source in sources.items()}
        return {name: count for name, count in found.items() if count}

    movers = {"delivery_advance": 1, "delivery_failed": 1, "send_begin": 1,
              "send_handed_over": 1}
    assert defining("move_delivery") == movers
    assert defining("log_callback") == {**movers, "optout_change": 1, "response_record": 1,
                                        "reply_unmatched": 1}
    assert defining("reserve_slot") == {"send_begin": 1}
    assert defining("open_question") == {"send_handed_over": 1}
    assert defining("append_story") == {"delivery_failed": 1, "delivery_late": 1}


def test_a_record_is_told_to_booking_systems_as_its_public_status() -> None:
    found = re.search(r"local told_as = \{(.*?)\}", script_source("delivery_advance"), re.S)
    assert found is not None
    told = dict(re.findall(r"\['(\w+)'\] = 'message\.(\w+)'", found[1]))
    assert told == {str(status): str(public_status(status)) for status in DeliveryStatus
                    if public_status(status) is not PublicStatus.SENDING}


def test_the_message_index_files_a_record_under_its_public_status() -> None:
    found = re.search(r"local index_status = \{(.*?)\}", script_source("delivery_advance"), re.S)
    assert found is not None
    filed = dict(re.findall(r"\['(\w+)'\] = '(\w+)'", found[1]))
    assert filed == {str(status): str(public_status(status)) for status in DeliveryStatus}
    assert filed == FROM_RECORD  # what a row without its status reads as
    reopened = script_source("delivery_reopen")
    assert reopened.count("local function index_message(") == 1
