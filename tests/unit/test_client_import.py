"""A booking system imports :mod:`notifier.client` into its own process: it loads the event
contract and the broker's names, not the gateway's templates, locales or actors."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("jinja2", "babel", "notifier.actors")


def test_importing_the_client_loads_neither_templates_nor_actors() -> None:
    script = (
        "import json, sys\n"
        "from notifier.client import EventSender, InvalidEventError\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # A fresh interpreter: this one has loaded half the package already.
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)
    loaded = json.loads(run.stdout)
    found = [name for name in loaded
             if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)]
    assert found == []
