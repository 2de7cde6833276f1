"""Pure arithmetic of the ReplicaSet controller.

Mirrors ``pkg/controller/replicaset/replica_set.go`` (``slowStartBatch``, ``getPodsToDelete``),
``replica_set_utils.go`` (``calculateStatus``), the pod predicates of ``pkg/api/v1/pod``, and
from ``pkg/controller/controller_utils.go`` the deletion ranking (``ActivePodsWithRanks``)
(expectations live in ``kubeviz/controllers/expectations.py``, in Redis).

What is simplified:

* ``slow_start_batch`` runs a batch's calls on a few threads (or one after another) instead of
  in goroutines; a batch still runs to its end before failures are looked at, as upstream.
* Feature gates are taken at their v1.36 defaults: pod deletion cost and logarithmic
  scale-down are on.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubeviz.client.labels import from_labels
from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
EXPECTATIONS_TIMEOUT = timedelta(minutes=5)
SLOW_START_INITIAL_BATCH_SIZE = 1
REPLICA_FAILURE = "ReplicaFailure"

# Pods further along their lifecycle are more valuable; phases not listed rank with Pending.
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


# --- pod predicates ---------------------------------------------------------------------------


def _ready_condition(pod: Obj) -> Obj | None:
    for cond in _status(pod).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def is_pod_active(pod: Obj) -> bool:
    """Tell whether a pod still counts toward replicas: not finished and not being deleted."""
    phase = _status(pod).get("phase")
    return phase not in ("Succeeded", "Failed") and not _meta(pod).get("deletionTimestamp")


def is_pod_ready(pod: Obj) -> bool:
    """Tell whether the kubelet reports the pod's Ready condition as True."""
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """Tell whether a pod has been ready for strictly longer than ``min_ready_seconds``.

    A pod with no minimum is available as soon as it is ready; otherwise the clock starts at
    the Ready condition's ``lastTransitionTime``, and a pod whose transition time is unknown
    never becomes available (upstream's zero-time rule).
    """
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    since = parse_time((_ready_condition(pod) or {}).get("lastTransitionTime"))
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


# --- slow start -------------------------------------------------------------------------------


def slow_start_batch(
    count: int, initial_batch_size: int, fn: Callable[[], object], *, parallel: int = 1
) -> tuple[int, Exception | None]:
    """Call ``fn`` ``count`` times in doubling batches; return (successes, first error).

    Batches grow 1, 2, 4, ... (from ``initial_batch_size``) and the run stops after the first
    batch in which any call failed.  This keeps a controller that cannot create pods (quota,
    admission webhook) from sending hundreds of doomed requests at once, while a healthy one
    still reaches large counts in a logarithmic number of rounds.  A call fails by raising or
    by returning ``False``.  Upstream runs a batch's calls in goroutines; ``parallel`` runs up
    to that many at once on threads (``fn`` must then be safe to call concurrently).
    """
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="slow-start") if parallel > 1 else None
    try:
        while batch > 0:
            outcomes = (
                list(pool.map(_attempt, [fn] * batch)) if pool else [_attempt(fn) for _ in range(batch)]
            )
            errors = [e for e in outcomes if e is not None]
            successes += batch - len(errors)
            if errors:
                return successes, errors[0]
            remaining -= batch
            batch = min(2 * batch, remaining)
        return successes, None
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _attempt(fn: Callable[[], object]) -> Exception | None:
    try:
        if fn() is False:
            return RuntimeError("call reported failure")
    except Exception as exc:  # every failure counts, like any error upstream
        return exc
    return None


# --- deletion ranking -------------------------------------------------------------------------


def deletion_cost(pod: Obj) -> int:
    """Return the pod's deletion cost annotation; absent or unparsable counts as 0.

    Upstream validates the annotation as an int32 and ignores it when invalid.
    """
    raw = (_meta(pod).get("annotations") or {}).get(POD_DELETION_COST_ANNOTATION)
    try:
        value = int(str(raw).strip()) if raw is not None else 0
    except ValueError:
        return 0
    return value if -(2**31) <= value < 2**31 else 0


def _max_restarts(pod: Obj) -> tuple[int, int]:
    """Return (regular, sidecar) highest container restart counts of a pod."""
    regular = max((s.get("restartCount", 0) for s in _status(pod).get("containerStatuses") or []), default=0)
    sidecars = {
        c.get("name")
        for c in (pod.get("spec") or {}).get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    sidecar = max(
        (
            s.get("restartCount", 0)
            for s in _status(pod).get("initContainerStatuses") or []
            if s.get("name") in sidecars
        ),
        default=0,
    )
    return regular, sidecar


def _log_rank(t: datetime, now: datetime) -> int:
    """Return floor(log2(age in nanoseconds)), or -1 for a time not in the past.

    Logarithmic buckets make pods of similar age equal, so scale-down does not always pick the
    very newest pods (which would skew every scale-down toward the last rollout's topology).
    """
    age_ns = (now - t) // timedelta(microseconds=1) * 1000
    return int(math.log2(age_ns)) if age_ns > 0 else -1


def _compare_times(a: datetime | None, b: datetime | None, *, pods: tuple[Obj, Obj], now: datetime) -> int:
    """Order two times so the zero time and the newer one come first (delete first)."""
    if a is None or b is None:
        return -1 if a is None else 1
    diff = _log_rank(a, now) - _log_rank(b, now)
    if diff != 0:
        return -1 if diff < 0 else 1
    uid_a, uid_b = (_meta(p).get("uid") or "" for p in pods)
    return -1 if uid_a < uid_b else (1 if uid_a > uid_b else 0)


@dataclass(frozen=True)
class RankedPod:
    """A pod and the number of active related pods sharing its node (its 'rank')."""

    pod: Obj
    rank: int


def _compare(x: RankedPod, y: RankedPod, now: datetime) -> int:
    """Return <0 when ``x`` should be deleted before ``y`` (upstream's ActivePodsWithRanks)."""
    a, b = x.pod, y.pod
    node_a, node_b = ((p.get("spec") or {}).get("nodeName") or "" for p in (a, b))
    if node_a != node_b and (not node_a or not node_b):
        return -1 if not node_a else 1  # unscheduled pods cost nothing to lose
    phase_a, phase_b = (_PHASE_ORDINAL.get(_status(p).get("phase", ""), 0) for p in (a, b))
    if phase_a != phase_b:
        return phase_a - phase_b
    if is_pod_ready(a) != is_pod_ready(b):
        return -1 if not is_pod_ready(a) else 1
    if deletion_cost(a) != deletion_cost(b):
        return -1 if deletion_cost(a) < deletion_cost(b) else 1
    if x.rank != y.rank:
        return -1 if x.rank > y.rank else 1  # crowded nodes first: spread what remains
    if is_pod_ready(a) and is_pod_ready(b):
        ready_a, ready_b = (parse_time((_ready_condition(p) or {}).get("lastTransitionTime")) for p in (a, b))
        if ready_a != ready_b:
            result = _compare_times(ready_a, ready_b, pods=(a, b), now=now)
            if result:
                return result
    restarts_a, restarts_b = _max_restarts(a), _max_restarts(b)
    if restarts_a != restarts_b:
        return -1 if restarts_a > restarts_b else 1  # crash-looping pods are worth least
    born_a, born_b = (parse_time(_meta(p).get("creationTimestamp")) for p in (a, b))
    if born_a != born_b:
        return _compare_times(born_a, born_b, pods=(a, b), now=now)
    return 0


def rank_by_colocation(pods: Iterable[Obj], related_pods: Iterable[Obj]) -> list[RankedPod]:
    """Pair each pod with how many active related pods run on its node.

    Related pods are those of all ReplicaSets of the same owner, so a Deployment's scale-down
    spreads across nodes even mid-rollout.
    """
    per_node: dict[str, int] = {}
    for pod in related_pods:
        if is_pod_active(pod):
            node = (pod.get("spec") or {}).get("nodeName") or ""
            per_node[node] = per_node.get(node, 0) + 1
    return [RankedPod(p, per_node.get((p.get("spec") or {}).get("nodeName") or "", 0)) for p in pods]


def get_pods_to_delete(pods: list[Obj], related_pods: list[Obj], diff: int, *, now: datetime) -> list[Obj]:
    """Choose the ``diff`` pods a scale-down removes, cheapest to lose first.

    The order: unscheduled before scheduled; Pending before Unknown before Running; not ready
    before ready; lower deletion cost first; pods on nodes crowded with related pods first;
    ready for less time first; more restarts first; newer first (ages compared in logarithmic
    buckets, ties broken by UID).  Sorting is skipped when every pod goes anyway.
    """
    if diff >= len(pods):
        return list(pods)
    ranked = rank_by_colocation(pods, related_pods)
    ranked.sort(key=functools.cmp_to_key(lambda x, y: _compare(x, y, now)))
    return [r.pod for r in ranked[:diff]]


# --- status -----------------------------------------------------------------------------------


def calculate_status(
    rs: Obj,
    filtered_pods: list[Obj],
    *,
    now: datetime,
    terminating_pods: list[Obj] | None = None,
    manage_replicas_error: str | None = None,
) -> dict[str, Any]:
    """Return the ReplicaSet status the controller should write for the pods it owns.

    ``filtered_pods`` are the active pods.  ``fullyLabeledReplicas`` counts pods whose labels
    still carry every template label (a pod relabelled by hand is owned but not 'fully'
    labelled).  A failed create or delete sets the ``ReplicaFailure`` condition once
    (``FailedCreate`` when short of replicas, ``FailedDelete`` when over); a clean sync clears it.
    ``terminatingReplicas`` is reported when terminating pods are passed.
    """
    spec = rs.get("spec") or {}
    template_labels = from_labels(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})
    min_ready = int(spec.get("minReadySeconds") or 0)
    status: dict[str, Any] = dict(_status(rs))
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != REPLICA_FAILURE]
    failure = next((c for c in status.get("conditions") or [] if c.get("type") == REPLICA_FAILURE), None)
    if manage_replicas_error is not None:
        if failure is None:
            diff = len(filtered_pods) - int(spec.get("replicas", 1))
            reason = "FailedCreate" if diff < 0 else ("FailedDelete" if diff > 0 else "")
            failure = _condition(REPLICA_FAILURE, "True", reason, manage_replicas_error, now)
        conditions.append(failure)
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    status["replicas"] = len(filtered_pods)
    status["fullyLabeledReplicas"] = sum(1 for p in filtered_pods if template_labels.matches_object(p))
    status["readyReplicas"] = sum(1 for p in filtered_pods if is_pod_ready(p))
    status["availableReplicas"] = sum(1 for p in filtered_pods if is_pod_available(p, min_ready, now))
    status["observedGeneration"] = _meta(rs).get("generation", 0)
    if terminating_pods is not None:
        status["terminatingReplicas"] = len(terminating_pods)
    return status


def _condition(kind: str, status: str, reason: str, message: str, now: datetime) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": format_time(now),
        "reason": reason,
        "message": message,
    }
