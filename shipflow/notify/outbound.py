"""The one way shipflow POSTs to a configured URL (Slack, alert webhooks, the store's webhook,
SMS/WhatsApp providers): only to public addresses, never following redirects.

A configured URL is checked when the configuration loads and again before each send, since
DNS can change in between. Loopback, link-local, private, shared, multicast, reserved and
unspecified addresses are refused unless `notify.allow_private_networks` lists them, so a
URL in a brand's config cannot make shipflow reach the metadata service or the admin port
of a neighbour. What a receiver answers is never kept beyond its status line.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

KINDS = (  # what makes an address not public, in the words of the refusal
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),
    ("is_multicast", "a multicast"),
    ("is_unspecified", "an unspecified"),
    ("is_reserved", "a reserved"),
    ("is_private", "a private"),
)


class DestinationRefused(ValueError):
    """The URL may not be sent to; the message says why and what to change."""


class Unresolvable(DestinationRefused):
    """The host has no address (now): refused at send time, tolerated at config load."""


def _not_public(address: IPAddress) -> str | None:
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    for attribute, kind in KINDS:
        if getattr(address, attribute):
            return kind
    return None if address.is_global else "a non-public"


def check_destination(url: str, allowed: Sequence[IPNetwork] = ()) -> None:
    """Refuse `url` unless it is http(s) and every address its host resolves to is public
    (or inside one of the `allowed` networks)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"{url!r} is not an http(s) URL")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise Unresolvable(f"host {host!r} does not resolve ({exc})") from None
    for *_, sockaddr in found:
        # str(): typeshed also allows the (int, bytes) address of non-IP families
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        kind = _not_public(address)
        if kind and not any(address in network for network in allowed):
            raise DestinationRefused(
                f"host {host!r} resolves to {address}, {kind} address; use a public address "
                "or list its network in notify.allow_private_networks"
            )


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allowed: Sequence[IPNetwork] = (),
) -> requests.Response:
    """POST after checking the destination; a redirect is an answer, not followed."""
    check_destination(url, allowed)
    return requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)


def status_text(response: requests.Response) -> str:
    """What is kept of a refusal: the status line, never the body."""
    return f"HTTP {response.status_code} {response.reason or ''}".strip()
