"""Fault test with real processes (tests/faults/stack.py): PostgreSQL ends the connection the API's web process
holds, as a database restart ends every connection, between two of its requests.

The web process keeps its connection between requests (`CONN_MAX_AGE`) and checks it before a request's first
query (`CONN_HEALTH_CHECKS`; backend/postgresql/base.py asks the socket before the server). After the server has
ended it, the next requests answer as they would have (a read 200, a visit upload 201), on a new connection, and
nothing answers 500. One web process, so that the connection ended is the one the next request meets. Figures are
printed (run with -s to see them).
"""

from __future__ import annotations

import pytest
from django.db import connection

from api.tokens import token_issue
from cases.models import Visit
from tests.faults.stack import visit_body, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

API_CONNECTIONS = ("SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database()"
                   " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def _api_connections() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(API_CONNECTIONS)
        return cursor.fetchall()


def test_the_api_answers_after_the_database_ended_its_connection(world, stack):
    token = token_issue(user=world.users["commissioner_a"], name="fault")[1]
    stack.redis_start()
    stack.api(workers=1)
    assert [stack.get(token, "/cases")[0] for _ in range(3)] == [200] * 3
    (held,) = wait_for(_api_connections, what="the web process's connection")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [held[0]])
        assert cursor.fetchone() == (True,)
    wait_for(lambda: not _api_connections(), what="the ended connection gone")

    after = [stack.get(token, "/cases")[0], stack.post(token, "/visits", visit_body(world))[0],
             stack.get(token, "/notes")[0]]
    now = _api_connections()
    figures = {"ended": held, "statuses after": after, "connection now": now}
    print(f"\nthe database ended the API's connection: {figures}")
    assert after == [200, 201, 200]
    assert len(now) == 1 and now[0][0] != held[0] and now[0][1] > held[1]
    assert Visit.objects.count() == 1
    assert "Internal Server Error" not in stack.log("api")
