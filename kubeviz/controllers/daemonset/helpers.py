"""Pure arithmetic of the DaemonSet controller.

Mirrors ``pkg/controller/daemon/daemon_controller.go`` (``NodeShouldRunDaemonPod``,
``podsShouldBeOnNode``, the status counts of ``updateDaemonSetStatus``), ``update.go``
(``rollingUpdate``, ``findUpdatedPodsOnNode``, ``Match``/``getPatch``, ``cleanupHistory``) and
``util/daemonset_util.go`` (default tolerations, ``CreatePodTemplate``,
``ReplaceDaemonSetPodNodeNameNodeAffinity``, ``GetTargetNodeName``, ``IsPodUpdated``,
``SurgeCount``/``UnavailableCount``), plus the per-node failed-pod backoff the controller keeps
(``flowcontrol.Backoff``).

What is simplified:

* The template hash is the Deployment controller's ``compute_pod_template_hash`` (canonical
  JSON, not Go's ``spew`` dump), so names differ from a real cluster's but stay stable.
* Revision data is compared as JSON values, not as marshalled bytes.
* Helpers never mutate their arguments.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubeviz.controllers.deployment.helpers import compute_pod_template_hash
from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import new_controller_ref
from kubeviz.controllers.objects import spec as _spec
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.replicaset.helpers import is_pod_available, is_pod_ready
from kubeviz.scheduler.plugins.helper import required_node_affinity_matches, untolerated_taint

Obj = Mapping[str, Any]

UNIQUE_LABEL_KEY = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
NODE_NAME_FIELD = "metadata.name"
FAILED_DAEMON_POD = "FailedDaemonPod"
SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"
SELECTING_ALL = "SelectingAll"

# What every daemon pod tolerates (AddOrUpdateDaemonPodTolerations), in upstream's order.  The
# NoExecute pair has no tolerationSeconds: a daemon must outlive node trouble, not be evicted.
_DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def _labels(obj: Obj) -> Mapping[str, str]:
    return _meta(obj).get("labels") or {}


# --- the pod a daemon would run ---------------------------------------------------------------


def _matches_toleration(a: Obj, b: Obj) -> bool:
    """Tell whether two tolerations are the same rule (``Toleration.MatchToleration``)."""
    return all((a.get(k) or "") == (b.get(k) or "") for k in ("key", "operator", "value", "effect"))


def add_or_update_toleration(tolerations: Iterable[Obj], toleration: Obj) -> list[dict[str, Any]]:
    """Return ``tolerations`` with ``toleration`` replacing its match, or appended."""
    out: list[dict[str, Any]] = []
    replaced = False
    for existing in tolerations:
        if _matches_toleration(existing, toleration):
            out.append(dict(toleration))
            replaced = True
        else:
            out.append(dict(existing))
    if not replaced:
        out.append(dict(toleration))
    return out


def with_daemon_tolerations(pod_spec: Obj) -> dict[str, Any]:
    """Return a pod spec that also tolerates what every daemon pod must tolerate.

    Node problems taint nodes (not-ready, pressure, cordon); a daemon belongs on its node
    regardless, so it tolerates them.  ``network-unavailable`` is added for hostNetwork pods
    only: they do not need the pod network to start (CNI plugins themselves are such pods).
    """
    spec = copy.deepcopy(dict(pod_spec))
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_HOST_NETWORK_TOLERATION)
    tolerations: list[dict[str, Any]] = list(spec.get("tolerations") or [])
    for key, effect in wanted:
        tolerations = add_or_update_toleration(
            tolerations, {"key": key, "operator": "Exists", "effect": effect}
        )
    spec["tolerations"] = tolerations
    return spec


def new_pod(ds: Obj, node_name: str) -> dict[str, Any]:
    """Return the pod ``ds`` would run on a node, for checking whether it fits (``NewPod``)."""
    template = _spec(ds).get("template") or {}
    spec = with_daemon_tolerations(template.get("spec") or {})
    spec["nodeName"] = node_name
    return {
        "metadata": {**(template.get("metadata") or {}), "namespace": _meta(ds).get("namespace")},
        "spec": spec,
    }


def node_should_run_daemon_pod(node: Obj, ds: Obj) -> tuple[bool, bool]:
    """Return (should run, should continue running) for ``ds`` on ``node``.

    A node must match the template's nodeName, nodeSelector and required node affinity, and
    every NoSchedule/NoExecute taint must be tolerated for a new pod to be placed.  A pod
    already there may stay while only NoSchedule taints are untolerated: NoSchedule keeps new
    pods off a node, it does not evict.
    """
    name = str(_meta(node).get("name") or "")
    template_node = (_spec(ds).get("template") or {}).get("spec", {}).get("nodeName") or ""
    if template_node and template_node != name:
        return False, False
    pod = new_pod(ds, name)
    if not required_node_affinity_matches(pod, node):
        return False, False
    taints = list(_spec(node).get("taints") or [])
    tolerations = list(pod["spec"]["tolerations"])
    if untolerated_taint(taints, tolerations, effects=("NoSchedule", "NoExecute")) is None:
        return True, True
    return False, untolerated_taint(taints, tolerations, effects=("NoExecute",)) is None


def replace_node_name_affinity(affinity: Obj | None, node_name: str) -> dict[str, Any]:
    """Return ``affinity`` with its required node affinity pinned to one node by name.

    The scheduler binds daemon pods (since v1.12) and this term is what makes it bind to the
    right node.  Existing required terms are replaced: the controller has already checked
    that the node satisfies them.
    """
    term = {"matchFields": [{"key": NODE_NAME_FIELD, "operator": "In", "values": [node_name]}]}
    out = copy.deepcopy(dict(affinity or {}))
    node_affinity = dict(out.get("nodeAffinity") or {})
    required = dict(node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    required["nodeSelectorTerms"] = [term]
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = required
    out["nodeAffinity"] = node_affinity
    return out


def target_node_name(pod: Obj) -> str | None:
    """Return the node a daemon pod is bound to, or pinned to by affinity, else None."""
    node = _spec(pod).get("nodeName")
    if node:
        return str(node)
    affinity = (_spec(pod).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for expr in term.get("matchFields") or []:
            if expr.get("key") == NODE_NAME_FIELD and expr.get("operator") == "In":
                values = expr.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


def template_generation(ds: Obj) -> int | None:
    """Return the template generation the apiserver keeps in an annotation, or None."""
    raw = (_meta(ds).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def create_pod_template(template: Obj, *, generation: int | None, hash_: str) -> dict[str, Any]:
    """Return the template daemon pods are made from: tolerations plus the version labels."""
    out = copy.deepcopy(dict(template))
    out["spec"] = with_daemon_tolerations(out.get("spec") or {})
    meta = dict(out.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash_:
        labels[UNIQUE_LABEL_KEY] = hash_
    meta["labels"] = labels
    out["metadata"] = meta
    return out


def is_pod_updated(pod: Obj, *, hash_: str, generation: int | None) -> bool:
    """Tell whether a pod runs the current template (by hash, or by the older generation label)."""
    labels = _labels(pod)
    by_generation = generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == str(generation)
    return bool(hash_) and labels.get(UNIQUE_LABEL_KEY) == hash_ or by_generation


# --- grouping and ordering --------------------------------------------------------------------


def _phase(pod: Obj) -> str:
    return str(_status(pod).get("phase") or "")


def _terminating(pod: Obj) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def nodes_to_daemon_pods(pods: Iterable[Obj], *, include_deleted_terminal: bool) -> dict[str, list[Obj]]:
    """Group a DaemonSet's pods by target node; pods with no target are left out.

    Finished pods already being deleted are dropped unless asked for: the kubelet or pod GC
    is removing them and the controller has nothing more to do with them.
    """
    out: dict[str, list[Obj]] = {}
    for pod in pods:
        if not include_deleted_terminal and _phase(pod) in ("Succeeded", "Failed") and _terminating(pod):
            continue
        node = target_node_name(pod)
        if node is not None:
            out.setdefault(node, []).append(pod)
    return out


def by_creation_and_phase(pods: Iterable[Obj]) -> list[Obj]:
    """Sort pods scheduled first, then oldest first, names breaking ties."""

    def key(pod: Obj) -> tuple[bool, str, str]:
        return (
            not _spec(pod).get("nodeName"),
            str(_meta(pod).get("creationTimestamp") or ""),
            str(_meta(pod).get("name") or ""),
        )

    return sorted(pods, key=key)


# --- rolling-update budgets -------------------------------------------------------------------


def _scaled(value: int | str | None, total: int) -> int:
    """Resolve an int-or-percent against ``total``, rounding up (``GetScaledValueFromIntOrPercent``)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError(f"invalid value {value!r}: string is not a percentage")
    return math.ceil(int(value[:-1]) * total / 100)


def _rolling(ds: Obj) -> Obj | None:
    strategy = _spec(ds).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate")


def surge_count(ds: Obj, number_to_schedule: int) -> int:
    """Return how many nodes may run an extra new pod at once (0 unless maxSurge is set)."""
    rolling = _rolling(ds)
    return 0 if rolling is None else _scaled(rolling.get("maxSurge"), number_to_schedule)


def unavailable_count(ds: Obj, number_to_schedule: int) -> int:
    """Return how many nodes may be without an available pod during a rolling update."""
    rolling = _rolling(ds)
    return 0 if rolling is None else _scaled(rolling.get("maxUnavailable"), number_to_schedule)


def allows_surge(ds: Obj) -> bool:
    """Tell whether a rolling update starts new pods beside old ones (maxSurge > 0)."""
    try:
        return surge_count(ds, 1) != 0
    except ValueError:
        return False


# --- what one node needs ----------------------------------------------------------------------


@dataclass
class NodePlan:
    """What ``manage`` should do on one node."""

    create: bool = False
    delete: list[str] = field(default_factory=list)
    #: Failed pods to delete (each reported with a FailedDaemonPod event).
    failed: list[Obj] = field(default_factory=list)
    #: Succeeded pods to delete (each reported with a SucceededDaemonPod event).
    succeeded: list[Obj] = field(default_factory=list)
    #: A failed pod was left alone because the node is in backoff; look again later.
    backing_off: bool = False


def pods_should_be_on_node(
    node: Obj,
    ds: Obj,
    *,
    daemon_pods: list[Obj] | None,
    hash_: str,
    now: datetime,
    in_backoff: bool = False,
) -> NodePlan:
    """Decide whether a node needs a daemon pod created, and which of its pods must go.

    ``daemon_pods`` is None when no pod targets the node.  Finished pods are replaced (failed
    ones only when the node's backoff allows, so a kubelet rejecting pods is not hammered).
    Without surge, only the oldest running pod of a node survives.  With surge, an old and a
    new pod may overlap until the new one is available (or the old one stops being ready).
    A node the DaemonSet must leave loses all its pods.
    """
    should_run, should_continue = node_should_run_daemon_pod(node, ds)
    plan = NodePlan()
    if should_run and daemon_pods is None:
        plan.create = True
        return plan
    if not should_continue:
        plan.delete = [str(_meta(p)["name"]) for p in daemon_pods or [] if not _terminating(p)]
        return plan
    running: list[Obj] = []
    for pod in daemon_pods or []:
        if _terminating(pod):
            continue
        if _phase(pod) == "Failed":
            # Deleting one failed pod starts the node's backoff; others wait it out.
            if in_backoff or plan.failed:
                plan.backing_off = True
                continue
            plan.failed.append(pod)
            plan.delete.append(str(_meta(pod)["name"]))
        elif _phase(pod) == "Succeeded":
            plan.succeeded.append(pod)
            plan.delete.append(str(_meta(pod)["name"]))
        else:
            running.append(pod)
    running = by_creation_and_phase(running)
    if not allows_surge(ds):
        plan.delete.extend(str(_meta(p)["name"]) for p in running[1:])
        return plan
    if len(running) <= 1:
        plan.create = not running and should_run
        return plan
    oldest_new: Obj | None = None
    oldest_old: Obj | None = None
    for pod in running:
        if _labels(pod).get(UNIQUE_LABEL_KEY) == hash_:
            if oldest_new is None:
                oldest_new = pod
                continue
        elif oldest_old is None:
            oldest_old = pod
            continue
        plan.delete.append(str(_meta(pod)["name"]))
    if oldest_new is not None and oldest_old is not None:
        min_ready = int(_spec(ds).get("minReadySeconds") or 0)
        if not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now):
            plan.delete.append(str(_meta(oldest_old)["name"]))
    return plan


def unscheduled_pods_without_node(
    node_names: Iterable[str], nodes_to_pods: Mapping[str, list[Obj]]
) -> list[str]:
    """Return pods pinned to nodes that no longer exist and never bound (pod GC cannot see them)."""
    existing = set(node_names)
    return [
        str(_meta(p)["name"])
        for node, pods in nodes_to_pods.items()
        if node not in existing
        for p in pods
        if not _spec(p).get("nodeName")
    ]


# --- rolling update ---------------------------------------------------------------------------


def find_updated_pods_on_node(
    pods: Iterable[Obj], *, hash_: str, generation: int | None
) -> tuple[Obj | None, Obj | None, bool]:
    """Return (new pod, old pod, ok) among a node's live pods; not ok when either is doubled."""
    new: Obj | None = None
    old: Obj | None = None
    for pod in pods:
        if _terminating(pod):
            continue
        if is_pod_updated(pod, hash_=hash_, generation=generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


@dataclass
class RollingStep:
    """The deletions and creations one rolling-update pass asks for."""

    delete: list[str] = field(default_factory=list)
    create_on: list[str] = field(default_factory=list)


def rolling_update(
    ds: Obj,
    *,
    nodes: list[Obj],
    nodes_to_pods: Mapping[str, list[Obj]],
    hash_: str,
    now: datetime,
) -> RollingStep:
    """Pick the old pods to replace now within maxUnavailable, or the nodes to surge onto.

    Without surge, old pods are deleted (and ``manage`` recreates them) while fewer than
    maxUnavailable nodes lack an available pod; unavailable old pods are always replaced.
    With surge, new pods start beside available old ones on up to maxSurge nodes, and an
    old pod goes once its node's new pod is available.  Pods being deleted do not count as
    unavailable, so an update makes progress while nodes are down.
    """
    generation = template_generation(ds)
    min_ready = int(_spec(ds).get("minReadySeconds") or 0)
    by_node = {str(_meta(n).get("name")): n for n in nodes}
    pods_of: dict[str, list[Obj]] = {k: list(v) for k, v in nodes_to_pods.items()}
    desired = 0
    for name, node in by_node.items():
        if node_should_run_daemon_pod(node, ds)[0]:
            desired += 1
            pods_of.setdefault(name, [])
    max_unavailable = unavailable_count(ds, desired)
    max_surge = surge_count(ds, desired)
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1  # an impossible setting must not wedge the update
    step = RollingStep()
    if max_surge == 0:
        unavailable = 0
        replacements: list[str] = []
        candidates: list[str] = []
        for _name, pods in sorted(pods_of.items()):
            new, old, ok = find_updated_pods_on_node(pods, hash_=hash_, generation=generation)
            if not ok or (old is None) == (new is None):
                unavailable += 1  # manage is still creating or pruning here
            elif new is not None:
                unavailable += 0 if is_pod_available(new, min_ready, now) else 1
            elif old is not None and not is_pod_available(old, min_ready, now):
                replacements.append(str(_meta(old)["name"]))
                unavailable += 1
            elif old is not None and unavailable < max_unavailable:
                candidates.append(str(_meta(old)["name"]))
        budget = max(0, min(max_unavailable - unavailable, len(candidates)))
        step.delete = replacements + candidates[:budget]
        return step
    surging = 0
    available = 0
    allowed_new: list[str] = []
    candidate_new: list[str] = []
    should_not_run: list[str] = []
    for name, pods in sorted(pods_of.items()):
        new, old, ok = find_updated_pods_on_node(pods, hash_=hash_, generation=generation)
        if not ok:
            surging += 1
            continue
        shown = old if old is not None else new
        if shown is not None and is_pod_available(shown, min_ready, now):
            available += 1
        if old is None:
            continue
        node = by_node.get(name)
        runs_here = node is not None and node_should_run_daemon_pod(node, ds)[0]
        if new is None:
            if not is_pod_available(old, min_ready, now):
                if runs_here:
                    allowed_new.append(name)
                else:
                    step.delete.append(str(_meta(old)["name"]))
            elif not runs_here:
                should_not_run.append(str(_meta(old)["name"]))
            elif surging < max_surge:
                candidate_new.append(name)
        elif not is_pod_available(new, min_ready, now):
            surging += 1
        else:
            step.delete.append(str(_meta(old)["name"]))
    # Pods on nodes the DaemonSet is leaving go only as surplus availability allows.
    deletable = min(max(available - desired, 0), len(should_not_run))
    step.delete.extend(should_not_run[:deletable])
    budget = max(0, min(max_surge - surging, len(candidate_new)))
    step.create_on = allowed_new + candidate_new[:budget]
    return step


# --- status -----------------------------------------------------------------------------------


def calculate_status(
    ds: Obj, *, nodes: list[Obj], nodes_to_pods: Mapping[str, list[Obj]], hash_: str, now: datetime
) -> dict[str, int]:
    """Return the DaemonSet's pod counts (``updateDaemonSetStatus``), judging each node's oldest pod."""
    generation = template_generation(ds)
    min_ready = int(_spec(ds).get("minReadySeconds") or 0)
    desired = current = misscheduled = ready = updated = available = 0
    for node in nodes:
        should_run, _ = node_should_run_daemon_pod(node, ds)
        pods = nodes_to_pods.get(str(_meta(node).get("name"))) or []
        if not should_run:
            misscheduled += 1 if pods else 0
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = by_creation_and_phase(pods)[0]
        if is_pod_ready(pod):
            ready += 1
            available += 1 if is_pod_available(pod, min_ready, now) else 0
        updated += 1 if is_pod_updated(pod, hash_=hash_, generation=generation) else 0
    return {
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "numberReady": ready,
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
        "numberUnavailable": desired - available,
    }


# Status fields Go drops from JSON when zero (``omitempty``); the other counts always appear.
_OMIT_WHEN_ZERO = ("observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable")


def status_with(
    current: Obj, counts: Mapping[str, int], *, observed_generation: int | None
) -> dict[str, Any]:
    """Return ``current`` status carrying new counts (and observedGeneration when given)."""
    out = dict(current)
    out.update(counts)
    if observed_generation is not None:
        out["observedGeneration"] = observed_generation
    for key in _OMIT_WHEN_ZERO:
        if not out.get(key):
            out.pop(key, None)
    return out


# --- history ----------------------------------------------------------------------------------


def revision_patch(ds: Obj) -> dict[str, Any]:
    """Return the patch a ControllerRevision stores: the pod template, replacing the old one."""
    template = copy.deepcopy(dict(_spec(ds).get("template") or {}))
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_matches(ds: Obj, revision: Obj) -> bool:
    """Tell whether a ControllerRevision holds the DaemonSet's current template (``Match``)."""
    return revision.get("data") == revision_patch(ds)


def template_hash(ds: Obj) -> str:
    """Return the hash naming the current template's revision (collisionCount mixed in)."""
    collisions = _status(ds).get("collisionCount")
    return compute_pod_template_hash(_spec(ds).get("template") or {}, collisions)


def new_revision(ds: Obj, *, revision: int, hash_: str) -> dict[str, Any]:
    """Return the ControllerRevision that records the DaemonSet's current template."""
    template_labels = ((_spec(ds).get("template") or {}).get("metadata") or {}).get("labels") or {}
    meta: dict[str, Any] = {
        "name": f"{_meta(ds)['name']}-{hash_}",
        "namespace": _meta(ds).get("namespace"),
        "labels": {**template_labels, UNIQUE_LABEL_KEY: hash_},
        "ownerReferences": [new_controller_ref({"apiVersion": "apps/v1", "kind": "DaemonSet", **ds})],
    }
    if _meta(ds).get("annotations"):
        meta["annotations"] = dict(_meta(ds)["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": meta,
        "data": revision_patch(ds),
        "revision": revision,
    }


def max_revision(revisions: Iterable[Obj]) -> int:
    """Return the highest ``revision`` number among ControllerRevisions (0 for none)."""
    return max((int(r.get("revision") or 0) for r in revisions), default=0)


def histories_to_delete(old: list[Obj], *, limit: int, live_hashes: set[str]) -> list[Obj]:
    """Return the old revisions to delete, oldest first, keeping ``limit`` and any still in use."""
    to_kill = len(old) - limit
    out: list[Obj] = []
    for revision in sorted(old, key=lambda r: int(r.get("revision") or 0)):
        if to_kill <= 0:
            break
        if _labels(revision).get(UNIQUE_LABEL_KEY) in live_hashes:
            continue
        out.append(revision)
        to_kill -= 1
    return out


# --- failed-pod backoff -----------------------------------------------------------------------


@dataclass(frozen=True)
class BackoffEntry:
    """One node's failed-pod backoff: the current delay and when it last grew (epoch seconds)."""

    delay: float
    updated: float


def in_backoff(entry: BackoffEntry | None, now: float) -> bool:
    """Tell whether a failed pod must be left alone a while longer (``IsInBackOffSinceUpdate``)."""
    return entry is not None and now - entry.updated < entry.delay


def next_backoff(entry: BackoffEntry | None, now: float, *, initial: float, maximum: float) -> BackoffEntry:
    """Return the backoff after one more failure: doubling up to ``maximum``, reset when stale."""
    if entry is None or now - entry.updated > 2 * maximum:
        return BackoffEntry(initial, now)
    return BackoffEntry(min(entry.delay * 2, maximum), now)
