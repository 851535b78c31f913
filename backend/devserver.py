"""`make run`: the API server, a Celery worker and beat together, on the embedded defaults.

Ctrl-C stops all three. Production runs them as separate processes (docker/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

ADDRESS = os.environ.get("RUN_ADDRESS", "127.0.0.1:8000")


def main() -> int:
    python = sys.executable
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "backend.settings.dev")}
    commands = {
        "web": [python, "manage.py", "runserver", ADDRESS, "--noreload"],
        "worker": [python, "-m", "celery", "-A", "backend", "worker", "-Q", "urgent,default,bulk",
                   "--concurrency", "1", "--loglevel", "INFO"],
        "beat": [python, "-m", "celery", "-A", "backend", "beat", "--loglevel", "INFO"],
    }
    processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    print(f"\nMimamori is running on http://{ADDRESS}/ (API /api/v1/, docs /api/docs/). Ctrl-C stops it.\n",
          flush=True)

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
    finally:
        stop()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [name for name, p in processes.items() if p.returncode not in (0, -signal.SIGTERM, None)]
    if failed:
        print(f"stopped: {', '.join(failed)} exited with an error", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
