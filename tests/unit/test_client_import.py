"""A booking system imports :mod:`notifier.event_sender` (or :mod:`notifier.client`, its
older name) into its own process: it loads the event contract and the broker's names, not
the gateway's templates, locales or actors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("jinja2", "babel", "notifier.actors")


@pytest.mark.parametrize("module", ["notifier.client", "notifier.event_sender"])
def test_importing_the_event_sender_loads_neither_templates_nor_actors(module: str) -> None:
    script = (
        "import json, sys\n"
        f"from {module} import EventSender, InvalidEventError\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # A fresh interpreter: this one has loaded half the package already.
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)
    loaded = json.loads(run.stdout)
    found = [name for name in loaded
             if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)]
    assert found == []
