"""Where a callback may go: https to public addresses only, the address checked being the
one connected to."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

from notifier.callbacks.destination_check import (
    Rejection,
    check_destination,
    describe_rejection,
)
from notifier.domain import Lang
from notifier.errors import DestinationRefused

PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
          "64:ff9b::808:808", "::ffff:8.8.8.8"]
PRIVATE = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.1.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "0.0.0.0", "0.1.2.3", "100.64.0.1", "100.127.255.254",
    "198.18.0.1", "192.0.0.8", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "fec0::1", "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
    "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]
METADATA = ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe", "169.254.170.2", "100.100.100.200"]


class Resolver:
    """Answers like socket.getaddrinfo from a table, and counts the questions."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.asked.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (address, port) if ":" not in address else (address, port, 0, 0))
            for address in self.table[host]
        ]


def rejection(url: str, resolver: Resolver, *, allow_private: bool = False) -> Rejection | None:
    try:
        check_destination(url, allow_private=allow_private, resolve=resolver)
    except DestinationRefused as refused:
        return Rejection(refused.reason)
    return None


def test_a_public_https_url_is_allowed_at_the_address_it_resolved_to() -> None:
    resolver = Resolver({"hooks.example.org": ["93.184.215.14"]})
    destination = check_destination("https://Hooks.Example.org/cb/in?k=v#frag",
                                    resolve=resolver)
    assert destination.address == "93.184.215.14"
    assert (destination.scheme, destination.host, destination.port) == (
        "https", "hooks.example.org", 443)
    assert destination.target == "/cb/in?k=v"
    assert destination.host_header == "hooks.example.org"
    assert resolver.asked == [("hooks.example.org", 443)]


def test_a_port_goes_in_the_host_header() -> None:
    resolver = Resolver({"hooks.example.org": ["2606:4700:4700::1111"]})
    destination = check_destination("https://hooks.example.org:8443", resolve=resolver)
    assert (destination.port, destination.target) == (8443, "/")
    assert destination.address == "2606:4700:4700::1111"
    assert destination.host_header == "hooks.example.org:8443"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert rejection("https://hooks.example.org/", Resolver({"hooks.example.org": [address]})) \
        is None


@pytest.mark.parametrize("address", PRIVATE)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    resolver = Resolver({"hooks.example.org": [address]})
    assert rejection("https://hooks.example.org/", resolver) is Rejection.PRIVATE_ADDRESS
    assert rejection("https://hooks.example.org/", resolver, allow_private=True) is None


@pytest.mark.parametrize("address", METADATA)
def test_metadata_addresses_are_refused_even_where_private_ones_are_allowed(
    address: str,
) -> None:
    resolver = Resolver({"hooks.example.org": [address]})
    for allow_private in (False, True):
        assert rejection("https://hooks.example.org/", resolver, allow_private=allow_private) \
            is Rejection.METADATA_ADDRESS


def test_one_private_address_among_public_ones_refuses_the_url() -> None:
    resolver = Resolver({"hooks.example.org": ["93.184.215.14", "10.0.0.5"]})
    assert rejection("https://hooks.example.org/", resolver) is Rejection.PRIVATE_ADDRESS


@pytest.mark.parametrize(("url", "expected"), [
    ("https://127.0.0.1/hook", Rejection.PRIVATE_ADDRESS),
    ("https://[::1]:8443/hook", Rejection.PRIVATE_ADDRESS),
    ("https://[::ffff:a9fe:a9fe]/", Rejection.METADATA_ADDRESS),
    ("https://8.8.8.8/hook", None),
])
def test_address_literals_are_checked_without_resolving(url: str, expected: Rejection) -> None:
    resolver = Resolver({})
    assert rejection(url, resolver) is expected
    assert resolver.asked == []


@pytest.mark.parametrize(("url", "expected"), [
    ("http://hooks.example.org/", Rejection.SCHEME),
    ("ftp://hooks.example.org/", Rejection.SCHEME),
    ("hooks.example.org/callbacks", Rejection.SCHEME),
    ("https:///callbacks", Rejection.URL),
    ("https://user:pass@hooks.example.org/", Rejection.URL),
    ("https://hooks.example.org:99999/", Rejection.URL),
    ("https://hooks.example.org:https/", Rejection.URL),
    ("https://hooks.example.org/a b", Rejection.URL),
    ("https://hooks.example.org/\r\nX-Injected: 1", Rejection.URL),
    ("https://hooks.exämple.org/", Rejection.URL),
    ("https://[fe80::1%25eth0]/", Rejection.URL),
    ("https://hooks.example.org/" + "a" * 2048, Rejection.URL),
    ("https://nowhere.example.org/", Rejection.UNRESOLVED),
])
def test_urls_that_are_not_https_urls_to_a_known_host_are_refused(
    url: str, expected: Rejection,
) -> None:
    assert rejection(url, Resolver({"hooks.example.org": ["93.184.215.14"]})) is expected


def test_http_is_allowed_only_with_private_addresses() -> None:
    resolver = Resolver({"hooks.internal": ["10.0.0.5"]})
    destination = check_destination("http://hooks.internal:8080/cb", allow_private=True,
                                     resolve=resolver)
    assert (destination.scheme, destination.address, destination.host_header) == (
        "http", "10.0.0.5", "hooks.internal:8080")


def test_the_system_resolver_by_default() -> None:
    with pytest.raises(DestinationRefused) as refused:
        check_destination("https://localhost:8443/")
    assert refused.value.reason is Rejection.PRIVATE_ADDRESS
    assert check_destination("https://localhost:8443/", allow_private=True).address in (
        "127.0.0.1", "::1")


def test_a_refusal_is_told_in_both_languages_without_the_url() -> None:
    with pytest.raises(DestinationRefused) as refused:
        check_destination("https://hooks.example.org/secret-path",
                          resolve=Resolver({"hooks.example.org": ["10.9.8.7"]}))
    reason = refused.value.reason
    french, english = describe_rejection(reason, Lang.FR), describe_rejection(reason, Lang.EN)
    assert str(refused.value) == english
    assert french != english
    for text in (french, english):
        assert "hooks.example.org" not in text and "10.9.8.7" not in text
        assert "secret-path" not in text
