"""The embedded default (SQLite in a file, as `make run` serves it) under parallel writes.

A real server in a subprocess on 127.0.0.1 with a fresh database file (migrated and seeded
with the demo ward), a worker process sealing the access log and delivering the outbox in a
loop, and eight threads that POST the same new resident with one Idempotency-Key at the same
moment: every request answers, none with a 5xx ("database is locked"), one resident is
stored, and the worker's tasks never fail either.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from demo.ward import DEMO_ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
PARALLEL = 8
TOKEN = next(account.token for account in DEMO_ACCOUNTS if account.username == "sato")  # a commissioner


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(url: str, *, method: str = "GET", body: bytes | None = None, key: str | None = None):
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# What the worker runs meanwhile: the beat's seal and redelivery sweeps, back to back, for a few seconds.
WORKER = """
import time
import django
django.setup()
from audit.tasks import access_log_seal_sweep
from notifications.tasks import outbox_sweep
print("ready", flush=True)
runs, until = 0, time.monotonic() + 6
while time.monotonic() < until:
    access_log_seal_sweep()
    outbox_sweep()
    runs += 1
print("runs", runs, flush=True)
"""


def _environment(database: Path) -> dict:
    # No servers: the database file, and a broker in memory (messages are lost; the outbox keeps them).
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "backend.settings.test",
           "CELERY_BROKER_URL": "memory://"}
    env.pop("REDIS_URL", None)
    return env


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("embedded") / "db.sqlite3"
    env = _environment(database)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            pytest.fail("the embedded server did not start")
        yield base, database
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_embedded_database_is_set_up_for_a_web_process_and_a_worker(embedded_server):
    _, database = embedded_server
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_parallel_posts_with_one_idempotency_key_store_one_record(embedded_server):
    base, database = embedded_server
    sato = next(account for account in DEMO_ACCOUNTS if account.username == "sato")
    with sqlite3.connect(database) as connection:
        district = connection.execute("SELECT id FROM cases_district WHERE code = ?", (sato.district,)).fetchone()[0]
    resident = json.dumps({
        "name_kanji": "並行 花子", "name_kana": "ヘイコウ ハナコ", "date_of_birth": "1940-04-01",
        "postal_code": "214-0014", "town": "登戸", "chome": 1, "block_number": "2-15", "building": "",
        "district": district, "household_type": "lives_alone", "phone": "044-900-1234",
    }).encode()
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=_environment(database), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    start, answers = threading.Barrier(PARALLEL), []

    def post():
        start.wait()
        answers.append(_request(f"{base}/api/v1/residents", method="POST", body=resident, key="parallel-once"))

    threads = [threading.Thread(target=post) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err[-2000:]
    assert out.startswith("runs "), out

    statuses = sorted(status for status, _ in answers)
    assert len(answers) == PARALLEL
    assert statuses == [201] * PARALLEL, [(status, body[:200]) for status, body in answers if status != 201]
    assert len({json.loads(body)["id"] for _, body in answers}) == 1
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM cases_resident WHERE name_kanji = ?", ("並行 花子",))
        assert stored.fetchone()[0] == 1
