"""The load of `make bench-load` (benchmarks/load.py): the city's people at work, with their own tokens.

Each simulated user is one of the readers benchmarks/load.py prepared (BENCH_LOAD_PEOPLE: a JSON file of
{kind, token, cases}), commissioners, care-centre workers and ward caseworkers in turn, and does what
they do all day, with no pause between requests (a closed loop: the figure is the service's throughput):
their caseload, a case, its notes, a visit upload (commissioners and care-centre workers), their tasks,
the referral inbox, their notifications (`Person`). Every answer other than the expected status is an error.

`OneRoute` sends the same people's GETs of one route only (BENCH_LOAD_ROUTE): the floors the mix is read
against (benchmarks/load.py, `FLOORS`). locust is told which of the two to run.

The client is locust's FastHttpUser (geventhttpclient): it costs the two shared cores about a quarter of what
its requests-based HttpUser does (2.0 ms of CPU a request on this machine), CPU the service under test
would otherwise not get. Both checkouts of a side-by-side run are driven by this same file.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random
import uuid
from urllib.parse import urlencode

from locust import FastHttpUser, constant, task

with open(os.environ["BENCH_LOAD_PEOPLE"]) as people_file:
    PEOPLE = json.load(people_file)
_NEXT = itertools.count()
API = "/api/v1"


class _Reader(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.person = PEOPLE[next(_NEXT) % len(PEOPLE)]
        self.headers = {
            "Authorization": f"Bearer {self.person['token']}",
            # Production settings redirect plain HTTP: the benchmark stands where the TLS proxy would.
            "X-Forwarded-Proto": "https",
            "Accept-Language": "ja",
        }
        self.random = random.Random(hash(self.person["token"]))

    def _get(self, path: str, name: str, **params) -> None:
        url = f"{path}?{urlencode(params)}" if params else path
        with self.client.get(url, name=name, headers=self.headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:120]}")


class OneRoute(_Reader):
    route = os.environ.get("BENCH_LOAD_ROUTE") or "/healthz"

    @task
    def only(self) -> None:
        self._get(self.route, self.route)


class Person(_Reader):
    def _case(self) -> int:
        return self.random.choice(self.person["cases"])

    @task(30)
    def caseload(self) -> None:
        self._get(f"{API}/cases", "caseload")

    @task(20)
    def case_detail(self) -> None:
        self._get(f"{API}/cases/{self._case()}", "case detail")

    @task(15)
    def notes_page(self) -> None:
        self._get(f"{API}/notes", "notes page", case=self._case())

    @task(8)
    def visit_upload(self) -> None:
        if self.person["kind"] == "ward_caseworker":
            return self.tasks_page()
        body = {
            "case": self._case(), "client_id": str(uuid.uuid4()),
            "occurred_at": (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=20)).isoformat(),
            "channel": "home_visit", "outcome": "met", "note": "体調は安定。次回は来週。",
        }
        with self.client.post(f"{API}/visits", json=body, name="visit upload", catch_response=True,
                              headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())}) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:120]}")

    @task(10)
    def tasks_page(self) -> None:
        mine = self.person["kind"] == "commissioner"
        self._get(f"{API}/tasks/{'mine' if mine else 'queue'}", "tasks")

    @task(7)
    def referral_inbox(self) -> None:
        self._get(f"{API}/referrals/inbox", "referral inbox")

    @task(10)
    def notifications(self) -> None:
        self._get(f"{API}/notifications", "notifications")
