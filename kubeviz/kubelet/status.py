"""The pod status the kubelet reports, computed from the runtime's state.

Mirrors ``generateAPIPodStatus`` and ``getPhase`` in ``pkg/kubelet/kubelet_pods.go`` and the
condition helpers of ``pkg/kubelet/status``: phase from the containers and the restart policy,
the PodReadyToStartContainers, Initialized, ContainersReady and Ready conditions, one
ContainerStatus per container with its state, last state, restart count and readiness.  The
PodScheduled condition belongs to the scheduler and is passed through untouched.

Pure: the pod, the sandbox's IP and one ``ContainerView`` per container in, a status out.
Simplified: no init or ephemeral containers, no readiness gates, no resize status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"


def stamp(epoch: float | None) -> str | None:
    """Format epoch seconds as the API's RFC 3339 timestamp (None stays None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Terminated:
    exit_code: int
    reason: str
    started_at: float | None
    finished_at: float
    container_id: str
    message: str = ""

    def as_state(self) -> Obj:
        state: Obj = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": stamp(self.started_at),
            "finishedAt": stamp(self.finished_at),
            "containerID": f"containerd://{self.container_id}",
        }
        if self.message:
            state["message"] = self.message
        return {"terminated": state}


@dataclass(frozen=True)
class ContainerView:
    """What the status needs to know about one container of the pod."""

    name: str
    image: str
    image_id: str = ""
    container_id: str = ""
    restart_count: int = 0
    running_since: float | None = None
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    ready: bool = False
    started: bool = False

    def as_status(self) -> Obj:
        if self.running_since is not None:
            state: Obj = {"running": {"startedAt": stamp(self.running_since)}}
        elif self.terminated is not None:
            state = self.terminated.as_state()
        else:
            waiting: Obj = {"reason": self.waiting_reason}
            if self.waiting_message:
                waiting["message"] = self.waiting_message
            state = {"waiting": waiting}
        status: Obj = {
            "name": self.name,
            "state": state,
            "lastState": self.last_terminated.as_state() if self.last_terminated else {},
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            status["containerID"] = f"containerd://{self.container_id}"
        return status


def phase(pod: Mapping[str, Any], views: Sequence[ContainerView]) -> str:
    """Return the pod's phase the way ``getPhase`` decides it.

    A container waiting to start for the first time keeps the pod Pending; one waiting to be
    restarted counts as stopped with its last exit code, so a crash-looping pod stays Running.
    """
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    running = waiting = stopped = succeeded = 0
    for v in views:
        if v.running_since is not None:
            running += 1
            continue
        last = v.terminated or v.last_terminated
        if last is None:
            waiting += 1
        else:
            stopped += 1
            succeeded += last.exit_code == 0
    if waiting:
        return PENDING
    if running:
        return RUNNING
    if not stopped:
        return PENDING
    if policy == "Always":
        return RUNNING
    if stopped == succeeded:
        return SUCCEEDED
    if policy == "Never":
        return FAILED
    return RUNNING


def _condition(kind: str, ok: bool, since: str | None, *, reason: str = "", message: str = "") -> Obj:
    c: Obj = {
        "type": kind,
        "status": "True" if ok else "False",
        "lastProbeTime": None,
        "lastTransitionTime": since,
    }
    if not ok and reason:
        c["reason"] = reason
        if message:
            c["message"] = message
    return c


def pod_status(
    pod: Mapping[str, Any],
    views: Sequence[ContainerView],
    *,
    host_ip: str,
    pod_ip: str,
    sandbox_ready: bool,
    started_at: float,
    now: float,
) -> Obj:
    """Return the status the kubelet would write for ``pod`` (conditions keep their old times)."""
    old = pod.get("status") or {}
    old_conditions = {c.get("type"): c for c in old.get("conditions") or []}
    ts = stamp(now)

    def cond(kind: str, ok: bool, **why: str) -> Obj:
        prev = old_conditions.get(kind)
        status = "True" if ok else "False"
        since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else ts
        return _condition(kind, ok, since, **why)

    current = phase(pod, views)
    not_ready = [v.name for v in views if not v.ready]
    ready = not not_ready and current == RUNNING
    if current in (SUCCEEDED, FAILED):
        ready_why = {"reason": "PodCompleted"}
    else:
        names = " ".join(not_ready)
        ready_why = {"reason": "ContainersNotReady", "message": f"containers with unready status: [{names}]"}
    conditions = [
        cond("PodReadyToStartContainers", sandbox_ready),
        cond("Initialized", True),
        cond("Ready", ready, **({} if ready else ready_why)),
        cond("ContainersReady", ready, **({} if ready else ready_why)),
    ]
    if "PodScheduled" in old_conditions:
        conditions.append(old_conditions["PodScheduled"])
    status: Obj = {
        "phase": current,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": old.get("startTime") or stamp(started_at),
        "containerStatuses": [v.as_status() for v in views],
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    return status


def status_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Tell whether writing ``new`` would change anything a reader sees."""
    keys = ("phase", "conditions", "hostIP", "podIP", "containerStatuses", "startTime")
    return any(old.get(k) != new.get(k) for k in keys)
