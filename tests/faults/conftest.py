"""The `stack` fixture: the processes of one fault test, ended before the database is flushed."""

import shutil

import pytest
from django.db import connection

from tests.faults.stack import Stack


@pytest.fixture
def stack(world, tmp_path):
    if connection.vendor != "postgresql" or not shutil.which("redis-server"):
        pytest.skip("needs PostgreSQL and a redis-server binary")
    processes = Stack(tmp_path)
    yield processes
    processes.close()  # before pytest-django flushes the database: nothing holds a connection
