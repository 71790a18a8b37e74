"""An integrator's API token, an endpoint's signing secret, and what a token allows.

Pure but for the random numbers: nothing here reads Redis or the clock.

A token is ``ntk_<integrator id>_<43 random characters>`` (256 random bits): shown once
when made, stored only as its SHA-256. A brute-force search of such a space is hopeless,
so an unsalted hash is enough, and it lets the web find a token's holder in one read.
A secret is ``whsec_<base64 of 32 random bytes>``, as Standard Webhooks writes it; the
gateway keeps it, since it signs with it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass

TOKEN_PREFIX = "ntk_"
SECRET_PREFIX = "whsec_"
ENDPOINT_PREFIX = "ep_"
SECRET_BYTES = 32
_ENDPOINT_ALPHABET = string.ascii_lowercase + string.digits


def new_token(integrator: str) -> str:
    """A fresh API token for ``integrator`` (its id is kept readable in the token so that
    an operator who finds one knows whose it is)."""
    return f"{TOKEN_PREFIX}{integrator}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """What the store keeps of ``token``: its SHA-256, in hexadecimal."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """True for text shaped like an integrator's token (worth a look in the store)."""
    return token.startswith(TOKEN_PREFIX) and 20 <= len(token) <= 200


def new_secret() -> str:
    """A fresh endpoint signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_endpoint_id() -> str:
    """A fresh endpoint id: ``ep_`` and 20 random lowercase letters or digits."""
    return ENDPOINT_PREFIX + "".join(secrets.choice(_ENDPOINT_ALPHABET) for _ in range(20))


@dataclass(frozen=True)
class Credential:
    """What a request's bearer token lets it do.

    Parameters:
      integrator: the integrator whose token it is; None for the deployment's own token
        (``NOTIFIER_API_TOKEN``), which acts for every location.
      locations: the locations it may act for; None for every location.
    """

    integrator: str | None = None
    locations: frozenset[str] | None = None

    def may_act_for(self, location: str) -> bool:
        return self.locations is None or location in self.locations


# The deployment's own token: every location, as before integrators existed.
EVERY_LOCATION = Credential()
