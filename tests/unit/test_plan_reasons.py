"""Every reason code the planning and send steps give has a sentence in both languages."""

from __future__ import annotations

import ast
import inspect

import pytest

from notifier.domain import Lang
from notifier.planning import plan, send_check
from notifier.planning.reasons import Reason, describe


def _reasons_used(module: object) -> set[str]:
    """``Reason.X`` names in a module's source, and any string passed as ``reason=``."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    used = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "Reason"):
            used.add(Reason[node.attr].value)
        if isinstance(node, ast.keyword) and node.arg == "reason":
            assert not isinstance(node.value, ast.Constant), "use Reason, not a bare string"
    return used


@pytest.mark.parametrize("module", [plan, send_check], ids=lambda m: m.__name__)
def test_every_reason_used_has_an_english_and_a_french_sentence(module: object) -> None:
    used = _reasons_used(module)
    assert used, "the scan found the reasons"
    for code in used:
        english, french = describe(code, Lang.EN), describe(code, Lang.FR)
        assert english != f"Not sent (code: {code}).", "an English sentence is missing"
        assert french != f"Non envoyé (code : {code}).", "a French sentence is missing"
        assert english != french


def test_every_reason_has_its_own_sentences() -> None:
    for lang in Lang:
        sentences = [describe(reason, lang) for reason in Reason]
        assert len(set(sentences)) == len(sentences)
        assert all(s.endswith(".") for s in sentences)


def test_the_decisions_named_in_the_brief_exist() -> None:
    assert {"stale_version", "duplicate_event", "start_in_past", "hide_name_only",
            "confirmation_pending", "superseded", "channel_not_chosen"} <= set(Reason)


def test_an_unknown_code_still_reads_as_a_sentence_naming_it() -> None:
    assert describe("from_the_future", Lang.EN) == "Not sent (code: from_the_future)."
    assert describe("from_the_future", Lang.FR) == "Non envoyé (code : from_the_future)."
