"""Table-driven tests of container behaviour: command rules, annotations and restart backoff."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.kubelet.runtime.behaviour import (
    Behaviour,
    BehaviourError,
    behaviour,
    command_line,
    restart_backoff,
)

SERVER = Behaviour()

COMMANDS: list[tuple[str, dict[str, Any], Behaviour]] = [
    ("no command: the image's default is a server", {}, SERVER),
    ("a real server binary", {"command": ["nginx", "-g", "daemon off;"]}, SERVER),
    ("sleep N runs N seconds and exits 0", {"command": ["sleep", "30"]}, Behaviour(runs_for=30.0)),
    ("sleep as command + args", {"command": ["sleep"], "args": ["5"]}, Behaviour(runs_for=5.0)),
    ("sleep by path", {"command": ["/bin/sleep", "2.5"]}, Behaviour(runs_for=2.5)),
    ("sleep with a unit suffix", {"command": ["sleep", "2m"]}, Behaviour(runs_for=120.0)),
    ("sleep inside sh -c", {"command": ["sh", "-c", "sleep 3600"]}, Behaviour(runs_for=3600.0)),
    (
        "sh -c with the script in args",
        {"command": ["/bin/sh", "-c"], "args": ["sleep 7"]},
        Behaviour(runs_for=7.0),
    ),
    ("bash -c with extra spaces", {"command": ["bash", "-c", "  sleep   4 "]}, Behaviour(runs_for=4.0)),
    ("sleep infinity runs forever", {"command": ["sleep", "infinity"]}, SERVER),
    (
        "exit N exits N at once",
        {"command": ["sh", "-c", "exit 3"]},
        Behaviour(runs_for=0.0, exit_code=3, reason="Error"),
    ),
    ("exit 0 completes", {"command": ["sh", "-c", "exit 0"]}, Behaviour(runs_for=0.0)),
    ("false exits 1", {"command": ["false"]}, Behaviour(runs_for=0.0, exit_code=1, reason="Error")),
    ("true exits 0", {"command": ["/bin/true"]}, Behaviour(runs_for=0.0)),
    ("a compound script is not interpreted", {"command": ["sh", "-c", "echo hi; sleep 5"]}, SERVER),
    ("sleep without a number is a server", {"command": ["sleep", "soon"]}, SERVER),
    ("sh without -c is a server", {"command": ["sh"]}, SERVER),
]


@pytest.mark.parametrize(("why", "container", "want"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_rules(why: str, container: dict[str, Any], want: Behaviour) -> None:
    assert behaviour(container) == want


SLEEP_60 = {"command": ["sleep", "60"]}

ANNOTATIONS: list[tuple[str, dict[str, Any], dict[str, str], Behaviour]] = [
    ("crash-after on a server exits 1", {}, {"kubeviz.io/crash-after": "30"}, Behaviour(30.0, 1, "Error")),
    (
        "crash-after with exit-code",
        {},
        {"kubeviz.io/crash-after": "30", "kubeviz.io/exit-code": "42"},
        Behaviour(30.0, 42, "Error"),
    ),
    (
        "crash-after before the sleep ends wins",
        SLEEP_60,
        {"kubeviz.io/crash-after": "10"},
        Behaviour(10.0, 1, "Error"),
    ),
    (
        "the sleep ending first wins",
        SLEEP_60,
        {"kubeviz.io/crash-after": "90"},
        Behaviour(60.0, 0, "Completed"),
    ),
    (
        "exit-code alone changes the command's own exit",
        SLEEP_60,
        {"kubeviz.io/exit-code": "2"},
        Behaviour(60.0, 2, "Error"),
    ),
    ("exit-code alone leaves a server running", {}, {"kubeviz.io/exit-code": "2"}, SERVER),
    ("oom-after exits 137 OOMKilled", {}, {"kubeviz.io/oom-after": "10"}, Behaviour(10.0, 137, "OOMKilled")),
    (
        "oom wins a tie with crash-after",
        {},
        {"kubeviz.io/oom-after": "10", "kubeviz.io/crash-after": "10"},
        Behaviour(10.0, 137, "OOMKilled"),
    ),
    (
        "the earlier crash beats a later oom",
        {},
        {"kubeviz.io/oom-after": "20", "kubeviz.io/crash-after": "5"},
        Behaviour(5.0, 1, "Error"),
    ),
    (
        "fail-readiness on a server",
        {},
        {"kubeviz.io/fail-readiness": "true"},
        Behaviour(fails_readiness=True),
    ),
    (
        "fail-readiness is case-insensitive",
        {},
        {"kubeviz.io/fail-readiness": "True"},
        Behaviour(fails_readiness=True),
    ),
    ("fail-readiness false", SLEEP_60, {"kubeviz.io/fail-readiness": "false"}, Behaviour(60.0)),
    ("unrelated annotations are ignored", SLEEP_60, {"example.com/crash-after": "1"}, Behaviour(60.0)),
]


@pytest.mark.parametrize(
    ("why", "container", "annotations", "want"), ANNOTATIONS, ids=[c[0] for c in ANNOTATIONS]
)
def test_annotations(
    why: str, container: dict[str, Any], annotations: dict[str, str], want: Behaviour
) -> None:
    assert behaviour(container, annotations=annotations) == want


BAD: list[tuple[dict[str, str], str]] = [
    ({"kubeviz.io/crash-after": "soon"}, "kubeviz.io/crash-after must be a number of seconds"),
    ({"kubeviz.io/oom-after": "-1"}, "kubeviz.io/oom-after must be a number of seconds"),
    ({"kubeviz.io/crash-after": "nan"}, "kubeviz.io/crash-after must be a number of seconds"),
    ({"kubeviz.io/exit-code": "256"}, "kubeviz.io/exit-code must be an exit code from 0 to 255"),
    ({"kubeviz.io/exit-code": "one"}, "kubeviz.io/exit-code must be an exit code from 0 to 255"),
    ({"kubeviz.io/fail-readiness": "yes"}, 'kubeviz.io/fail-readiness must be "true" or "false"'),
]


@pytest.mark.parametrize(("annotations", "message"), BAD)
def test_bad_annotations_say_what_is_wrong(annotations: dict[str, str], message: str) -> None:
    with pytest.raises(BehaviourError, match=message):
        behaviour({}, annotations=annotations)


PROPERTIES: list[tuple[Behaviour, bool, bool, bool]] = [
    # behaviour, runs_forever, crashes, oom_killed
    (SERVER, True, False, False),
    (Behaviour(5.0), False, False, False),
    (Behaviour(5.0, 1, "Error"), False, True, False),
    (Behaviour(5.0, 137, "OOMKilled"), False, True, True),
]


@pytest.mark.parametrize(("b", "forever", "crashes", "oom"), PROPERTIES)
def test_properties(b: Behaviour, forever: bool, crashes: bool, oom: bool) -> None:
    assert (b.runs_forever, b.crashes, b.oom_killed) == (forever, crashes, oom)


def test_command_line_unwraps_shells_and_paths() -> None:
    assert command_line({"command": ["/bin/sh", "-c", "sleep 1"]}) == "sleep 1"
    assert command_line({"command": ["/usr/bin/python", "-m", "http.server"]}) == "python -m http.server"
    assert command_line({}) == ""


BACKOFF: list[tuple[int, float, float]] = [
    # restarts, speed, seconds
    (0, 1.0, 10.0),
    (1, 1.0, 20.0),
    (2, 1.0, 40.0),
    (3, 1.0, 80.0),
    (4, 1.0, 160.0),
    (5, 1.0, 300.0),
    (6, 1.0, 300.0),
    (1000, 1.0, 300.0),
    (0, 10.0, 1.0),
    (5, 10.0, 30.0),
    (2, 0.5, 80.0),
]


@pytest.mark.parametrize(("restarts", "speed", "want"), BACKOFF)
def test_restart_backoff(restarts: int, speed: float, want: float) -> None:
    assert restart_backoff(restarts, speed=speed) == want


@pytest.mark.parametrize(("restarts", "speed"), [(-1, 1.0), (0, 0.0), (0, -2.0)])
def test_restart_backoff_rejects_nonsense(restarts: int, speed: float) -> None:
    with pytest.raises(ValueError):
        restart_backoff(restarts, speed=speed)
