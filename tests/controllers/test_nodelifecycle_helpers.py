"""Table-driven tests of the node lifecycle controller's health, taint and pod helpers.

The Lease and toleration helpers are tested in ``test_nodeipam_nodelifecycle_helpers.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.nodelifecycle.helpers import (
    last_heartbeat,
    not_ready_status,
    ready_status,
    reconcile_taints,
    unknown_conditions,
    wanted_taints,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
STAMP = format_time(NOW)


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def node(
    *conditions: tuple[str, str], taints: list[dict[str, Any]] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "worker-2", "creationTimestamp": ago(3600)},
        "spec": {"taints": taints or [], **spec},
        "status": {
            "conditions": [
                {
                    "type": kind,
                    "status": status,
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": ago(100),
                    "lastTransitionTime": ago(3000),
                }
                for kind, status in conditions
            ]
        },
    }


def test_ready_status() -> None:
    assert ready_status(node(("Ready", "True"))) == "True"
    assert ready_status(node(("Ready", "False"))) == "False"
    assert ready_status(node()) == "Unknown"  # never posted


def test_last_heartbeat_is_the_newest_of_lease_and_condition() -> None:
    lease = {"spec": {"renewTime": ago(5)}}
    assert last_heartbeat(node(("Ready", "True")), lease) == NOW - timedelta(seconds=5)
    assert last_heartbeat(node(("Ready", "True")), None) == NOW - timedelta(seconds=100)
    assert last_heartbeat(node(), {"spec": {}}) is None


def test_unknown_conditions_follow_upstream() -> None:
    n = node(("Ready", "True"), ("MemoryPressure", "False"), ("NetworkUnavailable", "False"))
    by_type = {c["type"]: c for c in unknown_conditions(n, NOW)}
    assert by_type["Ready"] | {} == {
        "type": "Ready",
        "status": "Unknown",
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
        "lastHeartbeatTime": ago(100),  # the last heartbeat stays what it was
        "lastTransitionTime": STAMP,
    }
    assert by_type["MemoryPressure"]["status"] == "Unknown"
    assert by_type["NetworkUnavailable"]["status"] == "False"  # the network plugin's, not ours
    assert by_type["DiskPressure"] == {
        "type": "DiskPressure",
        "status": "Unknown",
        "lastHeartbeatTime": ago(3600),
        "lastTransitionTime": STAMP,
        "reason": "NodeStatusNeverUpdated",
        "message": "Kubelet never posted node status.",
    }
    assert set(by_type) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"}
    # Applying it again changes nothing: the sync is idempotent.
    again = {"status": {"conditions": unknown_conditions(n, NOW)}, "metadata": n["metadata"]}
    assert unknown_conditions(again, NOW + timedelta(seconds=30)) == again["status"]["conditions"]


@pytest.mark.parametrize(
    ("conditions", "spec", "expected"),
    [
        ([("Ready", "True")], {}, []),
        (
            [("Ready", "Unknown")],
            {},
            [
                ("node.kubernetes.io/unreachable", "NoSchedule"),
                ("node.kubernetes.io/unreachable", "NoExecute"),
            ],
        ),
        (
            [("Ready", "False")],
            {},
            [("node.kubernetes.io/not-ready", "NoSchedule"), ("node.kubernetes.io/not-ready", "NoExecute")],
        ),
        (
            [("Ready", "True"), ("DiskPressure", "True")],
            {},
            [("node.kubernetes.io/disk-pressure", "NoSchedule")],
        ),
        ([("Ready", "True")], {"unschedulable": True}, [("node.kubernetes.io/unschedulable", "NoSchedule")]),
    ],
)
def test_wanted_taints(
    conditions: list[tuple[str, str]], spec: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert wanted_taints(node(*conditions, **spec)) == expected


def test_reconcile_taints_swaps_only_managed_taints() -> None:
    mine = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ago(60)}
    theirs = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    taints = [theirs, mine]
    # Unreachable stays (with its old timeAdded), not-ready:NoSchedule arrives stamped now.
    wanted = [("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/not-ready", "NoSchedule")]
    assert reconcile_taints(taints, wanted, now=NOW) == [
        theirs,
        mine,
        {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": STAMP},
    ]
    # Ready again: the managed taints go, the user's stays.
    assert reconcile_taints(taints, [], now=NOW) == [theirs]
    # Nothing to change: the same list comes back.
    assert reconcile_taints(taints, [("node.kubernetes.io/unreachable", "NoExecute")], now=NOW) == taints


def test_not_ready_status() -> None:
    pod = {
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": ago(500)},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": ago(500)},
            ],
        }
    }
    status = not_ready_status(pod, NOW)
    assert status is not None
    assert status["conditions"][0] == {"type": "Ready", "status": "False", "lastTransitionTime": STAMP}
    assert status["conditions"][1]["status"] == "True"  # only Ready changes, as upstream
    assert not_ready_status({"status": status}, NOW) is None
    assert not_ready_status({"status": {"phase": "Pending"}}, NOW) is None  # no Ready condition yet
