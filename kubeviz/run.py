"""``make run``: every process of a one-machine kubeviz, started in order and stopped together.

1. Redis — the embedded server (unless ``REDIS_URL`` is set), first, so that everything
   after it can announce and trace from its first write;
2. the database schema (``migrate``) and the default cluster ``demo``;
3. under honcho: Daphne (HTTP, the apiserver and websockets), a Celery worker, Celery beat,
   and the control-plane process (the informers and leader election of
   kube-controller-manager and kube-scheduler, ``kubeviz.controlplane``), and the machines
   process (the node agents' informers, ``kubeviz.machines``).

Ctrl-C stops every process it started, Redis last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager
from honcho.printer import Printer

from kubeviz import embedded_redis


def processes(env: dict[str, str]) -> dict[str, str]:
    """Return the command of every supervised process, by name."""
    py = sys.executable
    port = env.get("PORT", "8000")
    var = env.get("KUBEVIZ_VAR_DIR", "var")
    return {
        "web": f"{py} -m daphne -b 127.0.0.1 -p {port} --access-log {var}/access.log kubeviz.asgi:application",
        # Reconciles mostly wait on HTTP, so a pool of threads keeps more of them in flight
        # than one process per core would.
        "worker": (
            f"{py} -m celery -A kubeviz worker --loglevel=WARNING --pool=threads --concurrency=8"
            " --without-gossip --without-mingle"
        ),
        "beat": f"{py} -m celery -A kubeviz beat --loglevel=WARNING --schedule={var}/celerybeat-schedule",
        # The informers of kube-controller-manager and kube-scheduler, and their leader election.
        "controlplane": f"{py} -m kubeviz.controlplane --api http://127.0.0.1:{port}",
        "machines": f"{py} -m kubeviz.machines --api http://127.0.0.1:{port}",
    }


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    var = Path(env.setdefault("KUBEVIZ_VAR_DIR", "var"))
    var.mkdir(parents=True, exist_ok=True)
    redis = None
    if not env.get("REDIS_URL"):
        port = int(env.get("KUBEVIZ_REDIS_PORT", "6379"))
        redis = embedded_redis.start(port=port, workdir=var / "redis")
        print(f"kubeviz: embedded redis on 127.0.0.1:{port}", flush=True)
    try:
        for args in (["migrate", "--noinput", "-v", "0"], ["ensure_cluster", "demo"]):
            subprocess.run([sys.executable, "manage.py", *args], env=env, check=True)
        manager = Manager(Printer(sys.stdout))
        for name, cmd in processes(env).items():
            manager.add_process(name, cmd, env=env)
        print(
            f"kubeviz: serving http://127.0.0.1:{env.get('PORT', '8000')}/  (Ctrl-C stops every process)",
            flush=True,
        )
        manager.loop()
        return manager.returncode or 0
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
