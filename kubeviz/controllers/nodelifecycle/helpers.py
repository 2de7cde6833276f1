"""Pure arithmetic of node health and taint-based eviction.

Mirrors ``pkg/controller/nodelifecycle/node_lifecycle_controller.go`` (node health from the
kubelet's Lease, conditions turned Unknown, the NoSchedule and NoExecute taints the
conditions call for), ``MarkPodsNotReady`` of ``pkg/controller/util/node``, and
``pkg/controller/tainteviction`` (how long a pod may stay on a tainted node).  The taint
eviction controller uses ``tainteviction.helpers.eviction_delay``, which weighs all of a
node's NoExecute taints at once with upstream's first-matching-toleration rule.

Simplified: upstream times a Lease by when the controller *observed* its renewTime change,
so skewed clocks do no harm; here ``renewTime`` is compared with ``now`` directly, which is
the same on a single simulated clock.  Timings are divided by the cluster's speed factor,
which the UI shows (DESIGN rule 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

NODE_MONITOR_GRACE_PERIOD = timedelta(seconds=50)  # kube-controller-manager default since v1.29
UNREACHABLE_TAINT_KEY = "node.kubernetes.io/unreachable"
NOT_READY_TAINT_KEY = "node.kubernetes.io/not-ready"


def lease_expired(lease: Obj, now: datetime, grace: timedelta = NODE_MONITOR_GRACE_PERIOD) -> bool:
    """Tell whether a node's Lease has gone unrenewed for longer than the grace period.

    The kubelet renews its Lease every 10 s; the grace period allows several missed renewals
    before the node is declared Unknown.  A Lease never renewed counts as expired.
    """
    renewed = parse_time((lease.get("spec") or {}).get("renewTime"))
    return renewed is None or renewed + grace < now


def _taint(key: str, effect: str, now: datetime | None) -> dict[str, str]:
    taint = {"key": key, "effect": effect}
    if now is not None:
        taint["timeAdded"] = format_time(now)
    return taint


def unreachable_taint(now: datetime) -> dict[str, str]:
    """Build the NoExecute taint for a node whose kubelet stopped reporting (Ready Unknown)."""
    return _taint(UNREACHABLE_TAINT_KEY, "NoExecute", now)


def not_ready_taint(now: datetime) -> dict[str, str]:
    """Build the NoExecute taint for a node whose kubelet reports Ready False."""
    return _taint(NOT_READY_TAINT_KEY, "NoExecute", now)


def taint_for_ready_status(ready_status: str, now: datetime) -> dict[str, str] | None:
    """Return the NoExecute taint a node's Ready condition status calls for, if any."""
    if ready_status == "Unknown":
        return unreachable_taint(now)
    if ready_status == "False":
        return not_ready_taint(now)
    return None


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """Tell whether one toleration matches a taint.

    An empty effect or key matches any; ``Exists`` matches any value; ``Equal`` (the
    default operator) needs the same value.
    """
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


# --- node health (``tryUpdateNodeHealth``) ----------------------------------------------------

NODE_MONITOR_PERIOD = timedelta(seconds=5)  # how often upstream looks at every node
NODE_STARTUP_GRACE_PERIOD = timedelta(seconds=60)  # for nodes whose kubelet never posted Ready
#: The conditions upstream turns Unknown when the kubelet goes silent (not NetworkUnavailable,
#: which the network plugin owns).
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def node_condition(node: Obj, kind: str) -> Obj | None:
    """Return the node's condition of one type, or None."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def ready_status(node: Obj) -> str:
    """Return the Ready condition's status (``Unknown`` when the kubelet never posted one)."""
    cond = node_condition(node, "Ready")
    return (cond or {}).get("status") or "Unknown"


def last_heartbeat(node: Obj, lease: Obj | None) -> datetime | None:
    """Return the newest sign of life: the Lease's renewTime or the Ready condition's heartbeat."""
    times = [parse_time((node_condition(node, "Ready") or {}).get("lastHeartbeatTime"))]
    if lease is not None:
        times.append(parse_time((lease.get("spec") or {}).get("renewTime")))
    found = [t for t in times if t is not None]
    return max(found) if found else None


def unknown_conditions(node: Obj, now: datetime) -> list[dict[str, Any]]:
    """Return the node's conditions after its kubelet stopped posting status.

    The monitored conditions become Unknown (``NodeStatusUnknown``, transition now); one
    never posted is added as Unknown (``NodeStatusNeverUpdated``, heartbeat at the node's
    creation).  Conditions already Unknown and all others are kept as they are.
    """
    stamp = format_time(now)
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
    for kind in MONITORED_CONDITIONS:
        found = next((c for c in conditions if c.get("type") == kind), None)
        if found is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "lastHeartbeatTime": (node.get("metadata") or {}).get("creationTimestamp"),
                    "lastTransitionTime": stamp,
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                }
            )
        elif found.get("status") != "Unknown":
            found.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=stamp,
            )
    return conditions


# --- taints (``doNoScheduleTaintingPass``, ``processTaintBaseEviction``) -----------------------

#: Which condition status calls for which NoSchedule taint (``nodeConditionToTaintKeyStatusMap``).
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY_TAINT_KEY, "Unknown": UNREACHABLE_TAINT_KEY},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"
#: Every (key, effect) this controller owns on a node; it leaves all other taints alone.
MANAGED_TAINTS = frozenset(
    {(key, "NoSchedule") for by_status in CONDITION_TAINTS.values() for key in by_status.values()}
    | {(UNSCHEDULABLE_TAINT_KEY, "NoSchedule")}
    | {(UNREACHABLE_TAINT_KEY, "NoExecute"), (NOT_READY_TAINT_KEY, "NoExecute")}
)


def wanted_taints(node: Obj) -> list[tuple[str, str]]:
    """Return the (key, effect) taints the node's conditions and ``spec.unschedulable`` call for.

    NoSchedule for every bad condition (so nothing new lands there), and the NoExecute taint
    of the Ready condition (so what runs there is evicted once its tolerations run out).
    """
    wanted: list[tuple[str, str]] = []
    for cond in (node.get("status") or {}).get("conditions") or []:
        key = CONDITION_TAINTS.get(cond.get("type", ""), {}).get(cond.get("status", ""))
        if key:
            wanted.append((key, "NoSchedule"))
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.append((UNSCHEDULABLE_TAINT_KEY, "NoSchedule"))
    no_execute = {"Unknown": UNREACHABLE_TAINT_KEY, "False": NOT_READY_TAINT_KEY}.get(ready_status(node))
    if no_execute is not None:
        wanted.append((no_execute, "NoExecute"))
    return wanted


def reconcile_taints(
    taints: list[Obj], wanted: list[tuple[str, str]], *, now: datetime
) -> list[dict[str, Any]]:
    """Return the node's taints with the managed ones swapped to ``wanted`` (``SwapNodeControllerTaint``).

    Taints that stay keep their ``timeAdded`` (eviction deadlines count from it); new ones are
    stamped ``now``; taints the controller does not own are kept untouched, in order.
    """
    out: list[dict[str, Any]] = []
    present: set[tuple[str, str]] = set()
    for taint in taints:
        ident = (taint.get("key", ""), taint.get("effect", ""))
        if ident in MANAGED_TAINTS and ident not in wanted:
            continue
        present.add(ident)
        out.append(dict(taint))
    for key, effect in wanted:
        if (key, effect) not in present:
            present.add((key, effect))
            out.append(_taint(key, effect, now))
    return out


# --- pods (``MarkPodsNotReady``) ----------------------------------------------------------------


def not_ready_status(pod: Obj, now: datetime) -> dict[str, Any] | None:
    """Return the pod's status with its Ready condition False, or None if there is nothing to change.

    Only a Ready condition that exists and is not False yet is changed, and its transition
    time moves to ``now``, as ``UpdatePodCondition`` does.
    """
    status = dict(pod.get("status") or {})
    conditions = [dict(c) for c in status.get("conditions") or []]
    for cond in conditions:
        if cond.get("type") == "Ready":
            if cond.get("status") == "False":
                return None
            cond.update(status="False", lastTransitionTime=format_time(now))
            status["conditions"] = conditions
            return status
    return None
