"""The Lua scripts as the package ships them (``notifier/store/scripts/``)."""

from __future__ import annotations

import re
from importlib.resources import files

from notifier.delivery_status import RANK
from notifier.planning.reasons import Reason
from notifier.store.lua import script_source


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
    library = (scripts / "lib" / "delivery_move.lua").read_text(encoding="utf-8")
    takers = {name for name, source in sources.items() if library.rstrip("\n") in source}
    assert takers == {"delivery_advance", "send_begin", "send_handed_over"}
    assert sum("local function reserve_slot(" in source for source in sources.values()) == 1
