"""PostgreSQL as Django's backend has it, with `timestamptz` values read by psycopg's compiled loader and a
reused connection's health asked of its socket before it is asked of the server.

Django reads every `timestamptz` through a loader of its own, a Python subclass of psycopg's pure-Python one
(so that each value carries the connection's time zone object): about 3.2 µs a value, where psycopg's compiled
loader takes 0.17 µs. A caseload page reads some 160 of them, an inbox page over 300, and every request reads
its token's and user's.

On each new connection whose time zone is UTC (`USE_TZ`, and no `TIME_ZONE` of the database's own: Django then
sets the session to UTC), this backend registers `_UtcTimestamptzLoader`: it parses with the compiled loader and
gives the same value as Django's, in `datetime.UTC`. Django looks the loader's `timezone` up before each cursor
and, finding its own, adds nothing per cursor. Any other time zone keeps Django's loader.

Before a request's first query reuses a persistent connection (`CONN_HEALTH_CHECKS`), Django asks the server
`SELECT 1`: a round trip on every request, for the rare connection the server has ended. A server that ends a
connection (a restart, `pg_terminate_backend`, a crash: the kernel then closes the backend's socket) leaves
something to read on it, its last message or the end of the stream; an idle connection in good health has
nothing waiting. `is_usable` looks at the socket first: nothing to read, and no transaction open, means usable
with no round trip; anything else gets Django's `SELECT 1`, which reads what came and decides.
"""

from __future__ import annotations

import datetime
import select

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format, TransactionStatus

_TIMESTAMPTZ = types["timestamptz"].oid
# psycopg's own text loader: compiled when psycopg[binary] (or [c]) is installed, else its Python one.
_PARSE = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class _UtcTimestamptzLoader(Loader):
    timezone = datetime.UTC  # what Django compares with its connection's time zone before each cursor

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._parse = _PARSE(oid, context).load

    def load(self, data):
        return self._parse(data).astimezone(datetime.UTC)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone == datetime.UTC:
            connection.adapters.register_loader(_TIMESTAMPTZ, _UtcTimestamptzLoader)
        return connection

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status == TransactionStatus.IDLE and not _waiting(connection.fileno()):
            return True
        return super().is_usable()


def _waiting(fd: int) -> bool:
    """Whether the server has sent anything on this socket that nobody has read (poll, no wait)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
