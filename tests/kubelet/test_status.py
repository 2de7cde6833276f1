"""Pod phase and status from the runtime's view, table-driven as ``getPhase``'s tests are."""

from __future__ import annotations

import pytest

from kubeviz.kubelet.status import ContainerView, Terminated, phase, pod_status, status_changed

T0 = 1_700_000_000.0


def running(name: str = "c") -> ContainerView:
    return ContainerView(name=name, image="nginx", running_since=T0, ready=True, started=True)


def waiting(name: str = "c", *, restarts: int = 0, last_code: int | None = None) -> ContainerView:
    last = None if last_code is None else Terminated(last_code, "Error", T0, T0 + 1, "abc")
    return ContainerView(name=name, image="nginx", restart_count=restarts, last_terminated=last)


def done(code: int, name: str = "c") -> ContainerView:
    return ContainerView(
        name=name,
        image="busybox",
        terminated=Terminated(code, "Completed" if code == 0 else "Error", T0, T0 + 2, "x"),
    )


def pod(policy: str = "Always") -> dict:
    return {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"restartPolicy": policy},
        "status": {},
    }


@pytest.mark.parametrize(
    ("policy", "views", "expected"),
    [
        ("Always", [waiting()], "Pending"),
        ("Always", [running()], "Running"),
        ("Always", [running("a"), waiting("b")], "Pending"),
        ("Always", [waiting(restarts=2, last_code=1)], "Running"),  # CrashLoopBackOff stays Running
        ("Always", [done(0)], "Running"),  # about to be restarted
        ("OnFailure", [done(0)], "Succeeded"),
        ("OnFailure", [waiting(restarts=1, last_code=1)], "Running"),
        ("Never", [done(0)], "Succeeded"),
        ("Never", [done(1)], "Failed"),
        ("Never", [done(0, "a"), done(2, "b")], "Failed"),
        ("Never", [done(0, "a"), running("b")], "Running"),
    ],
)
def test_phase(policy: str, views: list[ContainerView], expected: str) -> None:
    assert phase(pod(policy), views) == expected


def test_ready_conditions_and_addresses() -> None:
    status = pod_status(
        pod(),
        [running()],
        host_ip="192.168.0.101",
        pod_ip="10.244.1.2",
        sandbox_ready=True,
        started_at=T0,
        now=T0 + 1,
    )
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
    }
    assert status["podIP"] == "10.244.1.2" and status["podIPs"] == [{"ip": "10.244.1.2"}]
    assert status["hostIP"] == "192.168.0.101"
    assert status["containerStatuses"][0]["state"]["running"]["startedAt"] == "2023-11-14T22:13:20Z"


def test_not_ready_names_the_containers_and_keeps_scheduled_condition() -> None:
    p = pod()
    p["status"] = {"conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "then"}]}
    status = pod_status(
        p, [running("a"), waiting("b")], host_ip="h", pod_ip="", sandbox_ready=True, started_at=T0, now=T0
    )
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["message"] == "containers with unready status: [b]"
    assert {"type": "PodScheduled", "status": "True", "lastTransitionTime": "then"} in status["conditions"]
    assert "podIP" not in status
    waiting_state = status["containerStatuses"][1]["state"]
    assert waiting_state == {"waiting": {"reason": "ContainerCreating"}}


def test_transition_time_kept_while_the_condition_holds() -> None:
    first = pod_status(pod(), [running()], host_ip="h", pod_ip="i", sandbox_ready=True, started_at=T0, now=T0)
    p = pod()
    p["status"] = first
    second = pod_status(
        p, [running()], host_ip="h", pod_ip="i", sandbox_ready=True, started_at=T0, now=T0 + 60
    )
    assert not status_changed(first, second)
    assert second["startTime"] == first["startTime"]


def test_crash_loop_shows_last_state_and_restart_count() -> None:
    view = ContainerView(
        name="c",
        image="busybox",
        restart_count=3,
        waiting_reason="CrashLoopBackOff",
        waiting_message="back-off 40s restarting failed container=c",
        last_terminated=Terminated(1, "Error", T0, T0 + 1, "abc"),
    )
    got = view.as_status()
    assert got["restartCount"] == 3
    assert got["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert got["lastState"]["terminated"]["exitCode"] == 1
