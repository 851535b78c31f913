"""Where a webhook may be sent: never to a private, loopback, link-local or otherwise internal address,
unless the operator allows that host (`WEBHOOK_ALLOWED_HOSTS`, e.g. a receiver inside the same network).

The check runs on the addresses the name resolves to *at send time*, and the connection goes to the
address that was checked (no second look-up a rebinding DNS answer could change); redirects are not
followed. HTTPS is required, except for an allowed host.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    """The URL points somewhere a webhook may not go."""


def _allowed_hosts() -> set[str]:
    return {host.lower() for host in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])}


def target_check_url(url: str) -> None:
    """The URL's shape: https (http only for an allowed host), a host, no credentials in it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        raise TargetRefused("url")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _allowed_hosts()):
        raise TargetRefused("scheme")


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def target_resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, the address to connect to), refusing an internal address of a host not allowed."""
    target_check_url(url)
    parts = urlsplit(url)
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise TargetRefused("dns") from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise TargetRefused("dns")
    if host not in _allowed_hosts() and any(_internal(address) for address in addresses):
        raise TargetRefused("internal_address")
    return parts.scheme, host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def target_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `body` to the checked address; (status, the first KiB of the answer). Raises OSError on no answer."""
    scheme, host, port, address = target_resolve(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(address, host, port, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(1024)
    finally:
        connection.close()
