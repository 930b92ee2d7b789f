"""Where alerts go: validated webhook and Slack destinations, and the SSRF guard.

A destination URL is user input that the server will later POST to, so it is
checked twice: its shape when it is saved (:func:`parse_destination`), and the
addresses its host resolves to right before each send (:func:`check_address`),
because DNS answers can change between the two.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from loopml.core.errors import InvalidArgument

KINDS = ("webhook", "slack")
MAX_URL = 2048
MIN_SECRET = 16
MAX_SECRET = 512
ALLOW_PRIVATE_ENV = "LOOPML_ALERTS_ALLOW_PRIVATE"
_TRUE = frozenset({"1", "true", "yes", "on"})
# "This network": Linux connects 0.x.x.x to the local host, and ipaddress calls it
# neither unspecified nor reserved.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destination:
    """One place an alert is sent: a generic signed webhook or a Slack incoming webhook."""

    kind: str
    url: str
    secret: str | None = None

    def __post_init__(self) -> None:
        _validate(self.kind, self.url, self.secret)

    def redacted(self) -> dict[str, object]:
        """What may be shown or logged: never the secret, nor a Slack URL's token path.

        A Slack incoming-webhook URL *is* its credential, so its path after the first
        segment is masked; a webhook keeps its path but loses its query string, where
        tokens are often put.
        """
        parts = urlsplit(self.url)
        base = f"{parts.scheme}://{_host_port(parts)}"
        if self.kind == "slack":
            segments = [s for s in parts.path.split("/") if s]
            path = f"/{segments[0]}/***" if len(segments) >= 2 else "/***"
        else:
            path = parts.path
        return {"kind": self.kind, "url": base + path, "signed": self.secret is not None}

    def to_dict(self) -> dict[str, Any]:
        """Full form for storage, secret included; never show it to users."""
        return {"kind": self.kind, "url": self.url, "secret": self.secret}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Destination:
        """Rebuild a stored destination (validated again, like user input)."""
        if not isinstance(data, Mapping):
            raise InvalidArgument(
                "A destination must be an object with 'kind' and 'url' (and optional 'secret')."
            )
        missing = [key for key in ("kind", "url") if not data.get(key)]
        if missing:
            raise InvalidArgument(
                f"A destination needs {' and '.join(repr(k) for k in missing)}:"
                " e.g. {'kind': 'webhook', 'url': 'https://example.com/hook'}."
            )
        return parse_destination(data["kind"], data["url"], data.get("secret"))


def _host_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def _validate(kind: object, url: object, secret: object) -> None:
    if kind not in KINDS:
        raise InvalidArgument(f"Unknown destination kind {kind!r}: use one of {', '.join(KINDS)}.")
    if not isinstance(url, str) or not url:
        raise InvalidArgument("A destination needs a URL, e.g. 'https://example.com/hook'.")
    if len(url) > MAX_URL:
        raise InvalidArgument(
            f"The destination URL is {len(url)} characters long; at most {MAX_URL} are allowed."
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidArgument(
            "The destination URL contains spaces or control characters; percent-encode them."
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidArgument(f"The destination URL cannot be parsed: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidArgument(
            f"The destination URL must start with http:// or https://, not {url[:16]!r}..."
        )
    if "@" in parts.netloc:
        raise InvalidArgument(
            "The destination URL must not contain a user name or password (user:pass@host);"
            " for a signed webhook pass a secret instead."
        )
    if not parts.hostname:
        raise InvalidArgument(
            "The destination URL has no host: write it as e.g. 'https://example.com/hook'."
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise InvalidArgument(f"The destination URL has an invalid port: {exc}.") from None
    if secret is None:
        return
    if kind == "slack":
        raise InvalidArgument(
            "Slack destinations take no secret: Slack does not verify signatures and the"
            " webhook URL itself is the credential. Remove the secret."
        )
    if not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET:
        length = len(secret) if isinstance(secret, str) else type(secret).__name__
        raise InvalidArgument(
            f"A webhook secret must be {MIN_SECRET} to {MAX_SECRET} characters long (got"
            f" {length}); generate one with e.g. `python -c 'import secrets;"
            " print(secrets.token_hex(32))'`."
        )


def parse_destination(kind: str, url: str, secret: str | None = None) -> Destination:
    """Validate user input into a :class:`Destination` (kind case-insensitive, URL trimmed).

    Refuses, with :class:`InvalidArgument`: an unknown kind; a URL that is not
    http(s), has no host, carries ``user:pass@`` or is longer than 2048 characters; a
    secret on a Slack destination; a webhook secret outside 16..512 characters.
    """
    if isinstance(kind, str):
        kind = kind.strip().lower()
    if isinstance(url, str):
        url = url.strip()
    if secret == "":
        secret = None
    return Destination(kind, url, secret)


def check_address(url: str, *, allow_private: bool) -> None:
    """Refuse to send to hosts an attacker could use to reach the server's own network.

    Resolves the URL's host and raises :class:`InvalidArgument` when any address is
    link-local (169.254/16, fe80::/10: cloud metadata services), multicast,
    unspecified or reserved, always; and when it is loopback or private (10/8,
    172.16/12, 192.168/16, 127/8, ::1, fc00::/7 and other non-global ranges) unless
    ``allow_private``. Called right before each send, as DNS may have changed since
    the destination was saved.
    """
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidArgument(f"The destination URL cannot be parsed: {exc}.") from None
    host = parts.hostname
    if not host:
        raise InvalidArgument("The destination URL has no host; fix the destination.")
    for address in _resolve(host, parts):
        _check_one(host, address, allow_private)


def _resolve(host: str, parts: SplitResult) -> list[IPAddress]:
    try:
        return [_unmap(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise InvalidArgument(
            f"Cannot resolve the destination host {host!r} ({exc}); check the URL's spelling"
            " and the server's DNS."
        ) from None
    addresses = []
    for info in infos:
        # IPv6 link-local answers carry a zone ("fe80::1%eth0").
        text = str(info[4][0]).split("%", 1)[0]
        addresses.append(_unmap(ipaddress.ip_address(text)))
    if not addresses:
        raise InvalidArgument(f"The destination host {host!r} resolves to no address.")
    return addresses


def _unmap(address: IPAddress) -> IPAddress:
    # "::ffff:169.254.169.254" reaches the IPv4 host; judge it as one.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _check_one(host: str, address: IPAddress, allow_private: bool) -> None:
    if (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        # ipaddress counts ::1 in the reserved ::/8; it is loopback, allowed with private.
        or (address.is_reserved and not address.is_loopback)
        or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK)
    ):
        raise InvalidArgument(
            f"Refusing to send alerts to {host!r}: it resolves to {address}, a link-local,"
            " multicast, unspecified or reserved address (such as a cloud metadata service)."
            " Use a destination on a routable address."
        )
    if not allow_private and (address.is_loopback or address.is_private or not address.is_global):
        raise InvalidArgument(
            f"Refusing to send alerts to {host!r}: it resolves to {address}, a loopback or"
            f" private address. Set {ALLOW_PRIVATE_ENV}=true on the server to allow"
            " destinations on the local network."
        )


def allow_private_from_env() -> bool:
    """Whether the operator allowed private destinations (``LOOPML_ALERTS_ALLOW_PRIVATE``).

    True for ``1``, ``true``, ``yes`` or ``on`` in any case; anything else, or unset,
    keeps the safe default of public destinations only.
    """
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in _TRUE
