"""Derive what a simulated container does from its spec: how long it runs and how it ends.

Mirrors the idea of kwok's stages (``kubernetes-sigs/kwok`` ``pkg/kwok/controllers``, the
``Stage`` resources): container lifecycle is data matched against the object, not branches in a
loop.  Here the data is ``COMMAND_RULES``, a first-match list of patterns over the container's
command line, plus a few pod annotations that script failures.

Command rules (command + args joined; ``sh -c "<script>"`` and ``bash -c`` are unwrapped, and a
path such as ``/bin/sleep`` counts as its base name):

* ``sleep N`` (``N`` in seconds, or with GNU sleep's ``s``/``m``/``h``/``d`` suffix) runs N seconds
  and exits 0; ``sleep infinity`` runs forever;
* ``exit N`` exits N at once; ``false`` exits 1 at once; ``true`` exits 0 at once;
* anything else, and no command at all (the image's default entrypoint), is a long-running server.

Annotations (on the pod; they apply to every container in it):

* ``kubeviz.io/crash-after: "30"`` -- the container exits after 30 seconds with exit code 1
  (reason ``Error``), unless it ends earlier by itself;
* ``kubeviz.io/exit-code: "3"`` -- the exit code for ``crash-after`` and for the command's own
  exit (so ``sleep 5`` with ``exit-code: "2"`` is a Job that fails after five seconds);
* ``kubeviz.io/oom-after: "10"`` -- the container is OOM-killed after 10 seconds: exit code 137,
  reason ``OOMKilled``; on a tie with ``crash-after`` the OOM kill wins;
* ``kubeviz.io/fail-readiness: "true"`` -- the readiness probe never succeeds.

Simplified: scripts are matched as a whole (``echo hi; sleep 5`` is a server), no shell is
interpreted, and an image's real default command is unknown, so it is always a server.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CRASH_AFTER = "kubeviz.io/crash-after"
EXIT_CODE = "kubeviz.io/exit-code"
OOM_AFTER = "kubeviz.io/oom-after"
FAIL_READINESS = "kubeviz.io/fail-readiness"
FAIL_LIVENESS = "kubeviz.io/fail-liveness"

COMPLETED = "Completed"
ERROR = "Error"
OOM_KILLED = "OOMKilled"
OOM_EXIT_CODE = 137  # 128 + SIGKILL, what the kernel's OOM killer leaves behind

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

BACKOFF_INITIAL = 10.0  # kubelet's initial container restart backoff, seconds
BACKOFF_MAX = 300.0  # kubelet's MaxContainerBackOff


class BehaviourError(ValueError):
    """A kubeviz.io annotation holds a value the runtime cannot use."""


@dataclass(frozen=True)
class CommandRule:
    """One row of the rule table: a regular expression over the whole command line.

    The named group ``seconds`` (with optional ``unit``) sets how long the command runs, the
    group ``code`` its exit code; without them ``runs_for`` and ``exit_code`` apply.
    """

    pattern: re.Pattern[str]
    runs_for: float | None = 0.0
    exit_code: int = 0


COMMAND_RULES: tuple[CommandRule, ...] = (
    CommandRule(re.compile(r"sleep (?:inf|infinity)"), runs_for=None),
    CommandRule(re.compile(r"sleep (?P<seconds>\d+(?:\.\d+)?)(?P<unit>[smhd]?)")),
    CommandRule(re.compile(r"exit (?P<code>\d+)")),
    CommandRule(re.compile(r"exit"), exit_code=0),
    CommandRule(re.compile(r"false"), exit_code=1),
    CommandRule(re.compile(r"true"), exit_code=0),
)


@dataclass(frozen=True)
class Behaviour:
    """What a container does once started.

    ``runs_for`` is the number of seconds until it terminates (``None``: it runs until stopped);
    ``exit_code`` and ``reason`` describe that termination.
    """

    runs_for: float | None = None
    exit_code: int = 0
    reason: str = COMPLETED
    fails_readiness: bool = False
    fails_liveness: bool = False

    @property
    def runs_forever(self) -> bool:
        return self.runs_for is None

    @property
    def crashes(self) -> bool:
        """Tell whether it terminates with a non-zero exit code (what restartPolicy OnFailure sees)."""
        return self.runs_for is not None and self.exit_code != 0

    @property
    def oom_killed(self) -> bool:
        return self.reason == OOM_KILLED


def command_line(container: Mapping[str, Any]) -> str:
    """Join a container's command and args into one line, unwrapping ``sh -c`` and paths."""
    argv = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
    if not argv:
        return ""
    argv[0] = argv[0].rsplit("/", 1)[-1]
    if argv[0] in SHELLS and "-c" in argv[1:-1]:
        return argv[argv.index("-c", 1) + 1]
    return shlex.join(argv)


def from_command(line: str) -> Behaviour:
    """Match a command line against ``COMMAND_RULES``; the first full match decides."""
    normalised = " ".join(line.split())
    for rule in COMMAND_RULES:
        match = rule.pattern.fullmatch(normalised)
        if match is None:
            continue
        groups = match.groupdict()
        runs_for = rule.runs_for
        if groups.get("seconds") is not None:
            runs_for = float(groups["seconds"]) * SLEEP_UNITS[groups.get("unit") or ""]
        exit_code = int(groups["code"]) if groups.get("code") is not None else rule.exit_code
        return Behaviour(runs_for=runs_for, exit_code=exit_code, reason=_reason(exit_code))
    return Behaviour()


def behaviour(container: Mapping[str, Any], *, annotations: Mapping[str, str] | None = None) -> Behaviour:
    """Derive a container's behaviour from its command line and the pod's kubeviz.io annotations.

    Of the command's own exit, ``crash-after`` and ``oom-after``, the earliest ends the container.
    """
    annotations = annotations or {}
    own = from_command(command_line(container))
    exit_code = _int(annotations, EXIT_CODE)
    endings: list[tuple[float, int, int, str]] = []  # (when, tie-break rank, exit code, reason)
    if own.runs_for is not None:
        code = own.exit_code if exit_code is None else exit_code
        endings.append((own.runs_for, 2, code, _reason(code)))
    crash_after = _seconds(annotations, CRASH_AFTER)
    if crash_after is not None:
        code = 1 if exit_code is None else exit_code
        endings.append((crash_after, 1, code, _reason(code)))
    oom_after = _seconds(annotations, OOM_AFTER)
    if oom_after is not None:
        endings.append((oom_after, 0, OOM_EXIT_CODE, OOM_KILLED))
    fails_readiness = _bool(annotations, FAIL_READINESS)
    fails_liveness = _bool(annotations, FAIL_LIVENESS)
    if not endings:
        return Behaviour(fails_readiness=fails_readiness, fails_liveness=fails_liveness)
    when, _, code, reason = min(endings)
    return Behaviour(
        runs_for=when,
        exit_code=code,
        reason=reason,
        fails_readiness=fails_readiness,
        fails_liveness=fails_liveness,
    )


def restart_backoff(restarts: int, *, speed: float = 1.0) -> float:
    """Return the CrashLoopBackOff delay, in seconds, before restarting a container again.

    Mirrors the kubelet's per-container backoff (``pkg/kubelet/kuberuntime``, ``flowcontrol.Backoff``):
    10 s after the first exit, doubling with every restart, capped at 300 s.  ``restarts`` is the
    container's restartCount so far; ``speed`` is the simulation's time multiplier.
    Simplified: the kubelet also forgets the backoff after a container ran cleanly for 10 minutes;
    callers that want that reset pass ``restarts=0``.
    """
    if restarts < 0:
        raise ValueError(f"restarts must be >= 0, got {restarts}")
    if speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    # Doubling past 2**5 only overflows the cap, so stop there instead of building huge floats.
    return min(BACKOFF_INITIAL * 2 ** min(restarts, 5), BACKOFF_MAX) / speed


def _reason(exit_code: int) -> str:
    return COMPLETED if exit_code == 0 else ERROR


def _seconds(annotations: Mapping[str, str], key: str) -> float | None:
    raw = annotations.get(key)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:  # negative or NaN
        raise BehaviourError(f"annotation {key} must be a number of seconds >= 0, got {raw!r}")
    return value


def _int(annotations: Mapping[str, str], key: str) -> int | None:
    raw = annotations.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 255:
        raise BehaviourError(f"annotation {key} must be an exit code from 0 to 255, got {raw!r}")
    return value


def _bool(annotations: Mapping[str, str], key: str) -> bool:
    raw = annotations.get(key, "false").strip().lower()
    if raw not in ("true", "false"):
        raise BehaviourError(f'annotation {key} must be "true" or "false", got {annotations[key]!r}')
    return raw == "true"
