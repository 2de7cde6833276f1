"""Pure arithmetic of node health and taint-based eviction.

Mirrors ``pkg/controller/nodelifecycle/node_lifecycle_controller.go`` (node health from the
kubelet's Lease, the NoExecute taints for unreachable and not-ready nodes) and
``pkg/controller/tainteviction`` (how long a pod may stay on a tainted node).

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


def toleration_seconds_for(pod: Obj, taint: Obj, *, speed: float = 1.0) -> float | None:
    """Return how long the pod may stay on a node with this NoExecute taint.

    ``0`` means evict now (no matching toleration, or one with ``tolerationSeconds <= 0``),
    ``None`` means never (matching tolerations set no limit); otherwise the smallest limit of
    the matching tolerations, divided by ``speed`` for a sped-up cluster.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    matching = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if tolerates(t, taint)]
    if not matching:
        return 0.0
    limits = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
    if not limits:
        return None
    shortest = min(limits)
    return 0.0 if shortest <= 0 else shortest / speed
