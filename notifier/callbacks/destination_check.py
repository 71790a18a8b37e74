"""Whether a callback may go to a URL, and the address it goes to.

A callback URL is given by an integrator, so the gateway must not be made to post to
itself, to its own network or to a cloud metadata service (server-side request forgery).
A URL is allowed when it is ``https`` and its host name resolves only to public Internet
addresses; one address that is not public refuses the URL, since the next resolution could
pick it. :func:`check_destination` returns the address it checked, and the sender
connects to that very address (sending the host name in ``Host``, in the TLS server name
and checking it in the certificate): a name that resolves differently a moment later
(DNS rebinding) changes nothing. The check runs again at every attempt.

Deployments whose integrators sit on the same private network (and tests with a loopback
receiver) turn ``allow_private`` on: plain ``http`` and private, loopback and link-local
addresses are then allowed. Cloud metadata services never are.
"""

from __future__ import annotations

import enum
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from notifier.bilingual import Bilingual
from notifier.domain import Lang
from notifier.errors import DestinationRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# socket.getaddrinfo, or a stand-in with its signature and answers.
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}

# Cloud metadata services hand out credentials to whoever asks from inside the machine.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254",  # AWS, Google Cloud, Azure, OpenStack, DigitalOcean...
    "fd00:ec2::254",  # AWS over IPv6
    "169.254.170.2",  # AWS container credentials
    "169.254.170.23", "fd00:ec2::23",  # AWS EKS pod identity
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
))
# Not public, whatever the running Python's ipaddress tables say of them.
_NOT_PUBLIC = tuple(ipaddress.ip_network(network) for network in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "fec0::/10", "2001:db8::/32",
))
# IPv6 addresses that reach the IPv4 address in their last 32 bits (DNS64 answers for
# IPv4-only hosts): judged by that IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Rejection(enum.StrEnum):
    """Why a callback URL is refused."""

    SCHEME = "scheme"
    URL = "url"
    UNRESOLVED = "unresolved"
    PRIVATE_ADDRESS = "private_address"
    METADATA_ADDRESS = "metadata_address"


_TEXTS: dict[Rejection, Bilingual] = {
    Rejection.SCHEME: Bilingual(
        "L'adresse de rappel doit commencer par https://.",
        "The callback address must start with https://.",
    ),
    Rejection.URL: Bilingual(
        "L'adresse de rappel n'est pas valide : écrivez https://, un nom d'hôte, un port "
        "facultatif et un chemin, en caractères ASCII (chemin encodé en %), sans espace, "
        "sans identifiant ni mot de passe, en 2048 caractères au plus.",
        "The callback address is not valid: write https://, a host name, an optional port "
        "and a path, in ASCII characters (the path %-encoded), without spaces, user name or "
        "password, in 2048 characters at most.",
    ),
    Rejection.UNRESOLVED: Bilingual(
        "Le nom d'hôte de l'adresse de rappel ne mène à aucune adresse IP; vérifiez-le, ou "
        "réessayez plus tard si le DNS ne répond pas.",
        "The callback address's host name leads to no IP address; check it, or try again "
        "later if DNS is not answering.",
    ),
    Rejection.PRIVATE_ADDRESS: Bilingual(
        "Le nom d'hôte de l'adresse de rappel mène à une adresse privée, locale ou réservée; "
        "les rappels ne vont qu'à des adresses publiques d'Internet.",
        "The callback address's host name leads to a private, local or reserved address; "
        "callbacks go only to public Internet addresses.",
    ),
    Rejection.METADATA_ADDRESS: Bilingual(
        "Le nom d'hôte de l'adresse de rappel mène à un service de métadonnées infonuagique; "
        "les rappels n'y vont jamais.",
        "The callback address's host name leads to a cloud metadata service; callbacks never "
        "go there.",
    ),
}


def refused(rejection: Rejection) -> DestinationRefused:
    """The exception that says ``rejection``, in English."""
    return DestinationRefused(rejection, _TEXTS[rejection].en)


def describe_rejection(reason: str, lang: Lang) -> str:
    """The sentence a person reads for a :class:`DestinationRefused` ``reason``, in
    ``lang``."""
    return _TEXTS[Rejection(reason)][lang]


@dataclass(frozen=True)
class Destination:
    """Where one attempt posts, checked.

    Parameters:
      scheme: ``https`` (or ``http`` where private addresses are allowed).
      host: the URL's host name, lowercase and in ASCII (IDNA); an IPv6 address without
        brackets. Sent in ``Host``, as the TLS server name, and checked in the certificate.
      port: the TCP port.
      address: the IP address the host name resolved to and that passed the check: the
        one to connect to.
      target: the path and query, as the request line names them.
    """

    scheme: str
    host: str
    port: int
    address: str
    target: str

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the host name, and the port unless it is the scheme's."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def check_destination(
    url: str, *, allow_private: bool = False, resolve: Resolver = socket.getaddrinfo,
) -> Destination:
    """The checked destination of ``url``; :class:`~notifier.errors.DestinationRefused` if
    a callback may not go there (its ``reason`` a :class:`Rejection`).

    Parameters:
      url: the endpoint's URL.
      allow_private: also allow ``http`` and addresses that are not public (a deployment
        whose integrators are on its own network; tests).
      resolve: turns a host name into addresses, as :func:`socket.getaddrinfo` does.
    """
    scheme, host, port, target = _parts(url, allow_http=allow_private)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolved(host, port, resolve)
    for address in addresses:
        rejection = address_rejection(address)
        if rejection is Rejection.METADATA_ADDRESS or (
            rejection is not None and not allow_private
        ):
            raise refused(rejection)
    return Destination(scheme, host, port, str(addresses[0]), target)


def address_rejection(address: IPAddress) -> Rejection | None:
    """Why a callback may not go to ``address``, or None if it is a public address."""
    if address in METADATA_ADDRESSES:
        return Rejection.METADATA_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        translated = address.ipv4_mapped or _nat64(address)
        if translated is not None:
            return address_rejection(translated)
        for tunnelled in _tunnelled(address):
            rejection = address_rejection(tunnelled)
            if rejection is not None:
                return rejection
    if _public(address):
        return None
    return Rejection.PRIVATE_ADDRESS


def _parts(url: str, *, allow_http: bool) -> tuple[str, str, int, str]:
    """Scheme, host, port and request target of ``url``; refused if it has none of them."""
    if not url.isascii() or len(url) > MAX_URL_LENGTH or any(
        character <= " " or character == "\x7f" for character in url
    ):
        raise refused(Rejection.URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refused(Rejection.URL) from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise refused(Rejection.SCHEME)
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username is not None or parts.password is not None or "%" in host:
        raise refused(Rejection.URL)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or _DEFAULT_PORTS[scheme], target


def _resolved(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    try:
        answers = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise refused(Rejection.UNRESOLVED) from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        # An IPv6 link-local answer names its interface ("fe80::1%eth0").
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise refused(Rejection.UNRESOLVED)
    return addresses


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or any(address in network for network in _NOT_PUBLIC)
    )


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _tunnelled(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a 6to4 or Teredo address carries (it may reach them)."""
    found = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        found.extend(address.teredo)
    return found
