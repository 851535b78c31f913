"""Webhooks after a fault, with a real worker process, a real Redis and a real HTTP receiver on loopback
that verifies every signature with the Standard Webhooks library: nothing is mocked.

The worker is killed with SIGKILL while the receiver holds its answer to the k-th delivery. Afterwards every
event reached the receiver; the one in flight at most twice (same webhook-id, so the receiver drops the
repeat), every other exactly once, in sequence order per endpoint. Run with -s to see the figures.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import Counter

import pytest

from cases.models.choices import Role
from integrations.events import NewEvent, events_record
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.factories import MembershipFactory, UserFactory
from tests.faults.stack import wait_for
from tests.integrations.receiver import Receiver

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_worker_killed_mid_delivery_loses_nothing(world, stack, monkeypatch, capsys):
    monkeypatch.setattr("integrations.events.enqueue_webhooks", lambda ids: False)  # the test sends the tasks
    receiver = Receiver(hold_at=4).start()
    try:
        admin = UserFactory(username="care2_admin")
        MembershipFactory(user=admin, organization=world.care_centre_2, role=Role.ORG_ADMIN)
        hooks = [WebhookEndpoint.objects.create(
            organization=world.care_centre_2, url=receiver.url(path), event_types=["task.assigned"],
            secret=f"whsec_{base64.b64encode(secrets.token_bytes(32)).decode()}", created_by=admin)
            for path in ("/a", "/b")]
        for hook, path in zip(hooks, ("/a", "/b"), strict=True):
            receiver.secrets[path] = [hook.secret]
        n = 10
        events_record(events=[NewEvent(world.care_centre_2.id, f"fault:{i}", "task.assigned", "task", i)
                              for i in range(n)])
        expected = [f"evt_{world.care_centre_2.id}_{i}" for i in range(1, n + 1)]
        stack.redis_start()
        stack.worker("w1", concurrency=1)
        stack.send("integrations.tasks.webhooks_deliver", queue="default", args=[[h.id for h in hooks]])
        wait_for(receiver.holding.is_set, what="the 4th webhook to reach the receiver", interval=0.01)
        in_flight = WebhookDelivery.objects.filter(claimed_at__isnull=False, delivered_at__isnull=True).count()
        killed_at = time.monotonic()
        stack.kill("w1")
        receiver.released.set()
        assert in_flight == 1
        stack.worker("w1", concurrency=1)  # what the restart policy does
        time.sleep(3.5)  # the dead worker's endpoint lease (WEBHOOK_LEASE_SECONDS) ends
        stack.send("integrations.tasks.webhooks_sweep", queue="default")
        wait_for(lambda: not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists(),
                 what="every delivery to be marked", timeout=60, interval=1.0,
                 tick=lambda: stack.send("integrations.tasks.webhooks_sweep", queue="default"))  # what beat does
        recovered = time.monotonic() - killed_at
        for path in ("/a", "/b"):
            ids = receiver.ids(path)
            counts = Counter(ids)
            assert set(counts) == set(expected), path
            repeated = [i for i, c in counts.items() if c > 1]
            assert len(repeated) <= 1 and all(counts[i] <= 2 for i in repeated), counts
            first_seen = list(dict.fromkeys(ids))
            assert first_seen == expected, path  # in order per endpoint
        assert receiver.rejected == 0
        with capsys.disabled():
            print(f"\nwebhooks after a SIGKILL mid-delivery: {n} events × 2 endpoints all delivered, "
                  f"{sum(c - 1 for p in ('/a', '/b') for c in Counter(receiver.ids(p)).values())} repeat(s) "
                  f"(the send in flight, same webhook-id), recovered in {recovered:.1f} s")
    finally:
        receiver.stop()
