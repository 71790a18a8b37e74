"""Operators' passwords, stored as salted scrypt hashes.

Make a hash for ``NOTIFIER_OPERATORS`` (the password is read without echo, twice)::

    python -m notifier.web.console.passwords

The hash reads ``scrypt.<n>.<r>.<p>.<salt hex>.<key hex>``: the cost parameters travel
with it, so they can be raised later without invalidating older hashes.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import hmac
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor

from notifier.settings import PASSWORD_HASH

# scrypt's interactive-login parameters: about 16 MiB and a few tens of milliseconds.
N, R, P = 2**14, 8, 1
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 12

# The process's scrypt threads: a burst of sign-ins waits here, holding neither the
# server's request threads nor more than this many times scrypt's memory.
SCRYPT_THREADS = 2
_scrypt_pool = ThreadPoolExecutor(max_workers=SCRYPT_THREADS, thread_name_prefix="scrypt")

# Checked against when the name is unknown, so that a wrong name costs as much as a wrong
# password and the answer time does not tell which names exist. Its cost parameters are
# those of a new hash; it is written out rather than made, so that no request (not even
# the first of a process) pays for a second derivation.
DECOY_HASH = f"scrypt.{N}.{R}.{P}.{'00' * 16}.{'00' * _KEY_BYTES}"


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """A new salted hash of ``password``."""
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, n, r, p)
    return f"scrypt.{n}.{r}.{p}.{salt.hex()}.{key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (compared in constant time)."""
    match = PASSWORD_HASH.match(stored)
    if not match:
        return False
    n, r, p = (int(match[i]) for i in (1, 2, 3))
    key = _derive(password, bytes.fromhex(match[4]), n, r, p)
    return hmac.compare_digest(key, bytes.fromhex(match[5]))


async def check_password(password: str, stored: str | None) -> bool:
    """:func:`verify_password` on the scrypt threads, awaited without holding a thread;
    against :data:`DECOY_HASH` (always False) when ``stored`` is None (an unknown name)."""

    def check() -> bool:
        matches = verify_password(password, stored or DECOY_HASH)
        return matches and stored is not None

    return await asyncio.wrap_future(_scrypt_pool.submit(check))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES
    )


def main() -> int:
    password = getpass.getpass("Password: ")
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"use at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2
    if getpass.getpass("Again: ") != password:
        print("the two passwords differ", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
