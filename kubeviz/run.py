"""``make run``: every process of a one-machine kubeviz under one supervisor (honcho).

Processes: the embedded Redis (unless ``REDIS_URL`` is set), Daphne (HTTP, the
apiserver and websockets), a Celery worker and Celery beat.  Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import sys

from honcho.manager import Manager
from honcho.printer import Printer


def processes(env: dict[str, str]) -> dict[str, str]:
    """Return the command of every process, by name."""
    py = sys.executable
    port = env.get("PORT", "8000")
    procs: dict[str, str] = {}
    if not env.get("REDIS_URL"):
        procs["redis"] = f"{py} -m kubeviz.embedded_redis"
    procs["web"] = (
        f"{py} -m daphne -b 127.0.0.1 -p {port} --access-log var/access.log kubeviz.asgi:application"
    )
    procs["worker"] = (
        f"{py} -m celery -A kubeviz worker --loglevel=WARNING --concurrency=2 --without-gossip --without-mingle"
    )
    procs["beat"] = f"{py} -m celery -A kubeviz beat --loglevel=WARNING --schedule=var/celerybeat-schedule"
    return procs


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    manager = Manager(Printer(sys.stdout))
    for name, cmd in processes(env).items():
        manager.add_process(name, cmd, env=env)
    port = env.get("PORT", "8000")
    print(f"kubeviz: serving http://127.0.0.1:{port}/  (Ctrl-C stops every process)", flush=True)
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
