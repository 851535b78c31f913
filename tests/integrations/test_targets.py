"""One kept-alive connection per endpoint turn: a turn of deliveries costs one TCP handshake; a receiver that
closes after each answer (HTTP/1.0) or closed the connection while it was idle still gets every delivery,
once each."""

from __future__ import annotations

import socket
from collections import Counter

from integrations.targets import TargetSession
from tests.helpers import deliver, endpoint, events
from tests.integrations.receiver import Receiver


def test_a_turn_of_deliveries_uses_one_connection(world, admin, receiver):  # noqa: F811
    endpoint(admin, receiver, "/a")
    events(world, 5)
    assert deliver().delivered == 5
    assert receiver.connections == 1
    assert Counter(receiver.ids("/a")) == {f"evt_{world.care_centre_2.id}_{n}": 1 for n in range(1, 6)}


def test_a_receiver_that_closes_each_connection_still_gets_each_delivery_once(world, admin):  # noqa: F811
    closing = Receiver()
    closing.start()
    try:
        closing.server.RequestHandlerClass.protocol_version = "HTTP/1.0"  # answers, then closes
        endpoint(admin, closing, "/a")
        events(world, 4)
        assert deliver().delivered == 4
        assert closing.connections == 4
        assert len(set(closing.ids("/a"))) == len(closing.ids("/a")) == 4
    finally:
        closing.stop()


def test_a_connection_the_receiver_closed_while_idle_is_opened_again(world, receiver):  # noqa: F811
    from django.test import override_settings

    with override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"]), \
            TargetSession(receiver.url("/x"), timeout=5) as session:
        receiver.secrets["/x"] = []  # unsigned: answered 401, which is all this test needs
        assert session.post(body=b"{}", headers={"content-type": "application/json"})[0] == 401
        for sock in receiver.sockets:  # the receiver closes the idle connection (its keep-alive timeout)
            sock.shutdown(socket.SHUT_RDWR)
        assert session.post(body=b"{}", headers={"content-type": "application/json"})[0] == 401
        assert session.connections == 2
