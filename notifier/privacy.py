"""Showing patients' addresses to operators without showing them in clear.

Logs, dashboards and the simulator print a masked form that is enough to tell two
recipients apart at a glance but not to reach anyone: ``+1•••••••123``,
``j•••@example.org``.
"""

from __future__ import annotations

_HIDDEN = "•"


def mask_address(address: str) -> str:
    """A phone number or email address with most of it hidden.

    A phone keeps its country code's first digit and its last three digits; an email
    keeps the first letter of its local part and its domain (the clinic's patients share
    a few providers, so the domain says little). Anything else keeps only its first
    character.
    """
    address = address.strip()
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}{_HIDDEN * 3}@{domain}"
    if address.startswith("+") and len(address) >= 9:
        return f"{address[:2]}{_HIDDEN * (len(address) - 5)}{address[-3:]}"
    return f"{address[:1]}{_HIDDEN * 3}"
