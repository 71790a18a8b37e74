"""Who runs an operator command, as the operators' audit records it."""

from __future__ import annotations

import os


def operator_name() -> str:
    """The user name of this process, or ``uid-<n>`` when its uid has none."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return f"uid-{os.getuid()}"
