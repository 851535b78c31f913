"""The fault tests' real processes: our own redis-server on a spare port, Celery workers and beat
(`celery -A backend worker|beat`), an API server (gunicorn), and an SMTP receiver on loopback
(aiosmtpd), all on the test database. Every wait polls with a deadline; every process is ended by
its own process-group id.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.header
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import redis
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from backend.celery import app

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0
QUEUES = ("urgent", "default", "bulk")


def wait_for(predicate, *, what: str, timeout: float = DEADLINE, interval: float = 0.1, tick=None):
    end = time.monotonic() + timeout
    while True:
        if tick is not None:
            tick()
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Stack:
    """The processes of one test. Each runs in its own session, so it is ended with its whole group."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.port = free_port(6390)
        self.redis_url = f"redis://127.0.0.1:{self.port}/0"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": self.redis_url,
            "FAULT_MAIL_DIR": str(self.mail_dir),
            "FAULT_BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.argv: dict[str, list[str]] = {}
        self.restarts: list[str] = []
        self.api_url = ""

    def use_smtp(self, receiver: Receiver) -> None:
        """Processes started from now on send e-mail over SMTP to this receiver, not to files."""
        self.env["FAULT_SMTP_PORT"] = str(receiver.port)

    # processes
    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs[name] = proc
        self.argv[name] = argv
        return proc

    def supervise(self) -> None:
        """What the deployment's restart policy does (compose: `restart: unless-stopped`): a worker or beat
        that died on its own is started again. kombu's Redis transport can crash a worker on broker loss
        ("Unrecoverable error: AttributeError ... 'hostname'" while restoring unacked messages)."""
        for name, proc in list(self.procs.items()):
            if name != "redis" and proc.poll() is not None:
                self.restarts.append(name)
                self._start(name, self.argv[name])

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=20)

    def close(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    # redis
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=2)

    def redis_start(self) -> None:
        self._start("redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"])
        wait_for(self._redis_up, what="redis-server", timeout=15, interval=0.05)

    def _redis_up(self) -> bool:
        try:
            return bool(self.redis().ping())
        except redis.RedisError:
            return False

    def redis_stop(self) -> None:
        self.kill("redis")

    def queued(self) -> int:
        client = self.redis()
        return sum(client.llen(queue) for queue in QUEUES)

    # celery and the API
    def worker(self, name: str, concurrency: int = 2) -> None:
        self._start(name, [sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", ",".join(QUEUES),
                           "-c", str(concurrency), "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
                           "--without-mingle", "--without-heartbeat"])
        wait_for(lambda: " ready." in self.log(name), what=f"worker {name}", interval=0.2)

    def beat(self) -> None:
        self._start("beat", [sys.executable, "-m", "celery", "-A", "backend", "beat", "--loglevel", "INFO"])
        wait_for(lambda: "Sending due task" in self.log("beat"), what="beat", interval=0.2)

    def api(self, workers: int = 2) -> str:
        port = free_port(18400)
        self._start("api", [sys.executable, "-m", "gunicorn", "backend.wsgi", "-b", f"127.0.0.1:{port}",
                            "-w", str(workers), "--timeout", "60"])
        self.api_url = f"http://127.0.0.1:{port}"
        wait_for(self._api_up, what="API server", interval=0.2)
        return self.api_url

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def send(self, task: str, queue: str = "urgent", args: list | None = None) -> str:
        """What beat (or an after-commit enqueue) does: put one message on the broker; its task id."""
        with app.connection_for_write(self.redis_url) as conn:
            return app.send_task(task, args=args, queue=queue, connection=conn).id

    def pool_pids(self, name: str) -> list[int]:
        """The worker's pool processes (children of its main process)."""
        pid = self.procs[name].pid
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(p) for p in children.read().split()]

    def kill_pool_process(self, name: str) -> None:
        """SIGKILL to one pool process only: its worker lives on and sees the child lost."""
        os.kill(self.pool_pids(name)[0], signal.SIGKILL)

    def post(self, token: str, path: str, body: dict) -> tuple[int, float]:
        return self._send(urllib.request.Request(
            f"{self.api_url}/api/v1{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        ))

    def get(self, token: str, path: str) -> tuple[int, float]:
        return self._send(urllib.request.Request(f"{self.api_url}/api/v1{path}",
                                                 headers={"Authorization": f"Bearer {token}"}))

    @staticmethod
    def _send(request: urllib.request.Request) -> tuple[int, float]:
        """The answer's status and how long it took."""
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        return status, time.perf_counter() - started

    def emails(self) -> list[tuple[str, str]]:
        """(recipient, subject) of every e-mail the processes sent (file backend)."""
        sent = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_text().split("-" * 79):
                if "Subject:" not in chunk:
                    continue
                message = email.message_from_string(chunk.strip())
                subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
                sent.append((message["To"], subject))
        return sent


class Receiver:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of the test process) that records every
    message it is given, with the time, before it answers. `hold_at=k` makes it stop before answering
    the k-th message until `released` (the test kills the sender meanwhile); `delay` slows every
    answer, like a remote relay."""

    def __init__(self, *, delay: float = 0.0, hold_at: int | None = None) -> None:
        self.delay, self.hold_at = delay, hold_at
        self.received: list[tuple[float, str, tuple[str, ...]]] = []
        self.holding, self.released = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.port = free_port(18600)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content)
        with self._lock:
            self.received.append((time.time(), message["Message-ID"], tuple(envelope.rcpt_tos)))
            n = len(self.received)
        if self.delay:
            await asyncio.sleep(self.delay)
        if n == self.hold_at:
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def start(self) -> Receiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._controller.stop()

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def per_message_id(self) -> Counter:
        with self._lock:
            return Counter(message_id for _, message_id, _ in self.received)

    def first_seen(self) -> dict[str, float]:
        with self._lock:
            seen: dict[str, float] = {}
            for at, message_id, _ in self.received:
                seen.setdefault(message_id, at)
            return seen


def with_email(world, *names: str) -> None:
    for name in names:
        world.users[name].email = f"{name}@example.jp"
        world.users[name].save(update_fields=["email"])


def visit_body(world) -> dict:
    return {"case": world.tanaka_case.id, "client_id": str(uuid.uuid4()),
            "occurred_at": (timezone.now() - datetime.timedelta(minutes=20)).isoformat(), "channel": "home_visit",
            "outcome": "no_answer", "warning_signs": ["newspapers_piling", "mail_piling"]}
