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


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    """A connection without Nagle's delay: http.client writes a request's headers and body in two sends, and
    on a kept-alive connection the body would wait for the receiver's delayed ACK (40 ms) of the headers."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = _connect(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = _connect(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class TargetSession:
    """One endpoint's connection for one turn of sends: the URL checked and resolved once, the connection to
    the checked address kept alive between requests (HTTP/1.1), opened again when the receiver closed it.

    Saves a TCP (and TLS) handshake per delivery. A request that fails on a *reused* connection before any
    answer (the receiver closed it while idle) is sent once more on a fresh one: a receiver that did store
    it sees the same `webhook-id` twice and drops the repeat, as after any crash. An answer longer than
    `ANSWER_KEPT` bytes closes the connection instead of being read to its end.
    """

    ANSWER_KEPT = 1024

    def __init__(self, url: str, *, timeout: float):
        self.url, self.timeout = url, timeout
        self._connection: http.client.HTTPConnection | None = None
        parts = urlsplit(url)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.connections = 0  # opened in this session (the benchmark and the tests read it)

    def _open(self) -> http.client.HTTPConnection:
        scheme, host, port, address = target_resolve(self.url)
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        self._connection = connection_class(address, host, port, self.timeout)
        self.connections += 1
        return self._connection

    def post(self, *, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST `body`; (status, the first KiB of the answer). Raises OSError on no answer."""
        reused = self._connection is not None
        try:
            return self._exchange(self._connection or self._open(), body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
        return self._exchange(self._open(), body, headers)

    def _exchange(self, connection: http.client.HTTPConnection, body: bytes,
                  headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(self.ANSWER_KEPT)
            if response.will_close or not response.isclosed() and response.read(1):
                self.close()  # the receiver closes, or a long answer: not read to its end
            return response.status, answer
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> TargetSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def target_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `body` to the checked address once, on a connection of its own; (status, the first KiB of the
    answer). Raises OSError on no answer."""
    with TargetSession(url, timeout=timeout) as session:
        return session.post(body=body, headers=headers)
