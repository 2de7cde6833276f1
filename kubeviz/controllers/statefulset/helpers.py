"""Pure arithmetic of the StatefulSet controller.

Mirrors ``pkg/controller/statefulset/stateful_set_utils.go`` (identity, ordinals, pod
predicates, ``newVersionedStatefulSetPod``, ``getPatch``/``newRevision``/``ApplyRevision``,
``completeRollingUpdate``, ``inconsistentStatus``), the decisions of ``stateful_set_control.go``
(``processReplica``, ``processCondemned``, the rolling update with maxUnavailable,
``computeReplicaStatus``, ``truncateHistory``, the choice of update revision in
``getStatefulSetRevisions``), and ``pkg/controller/history`` (revision hash, name, sorting,
equality).

What is simplified:

* Decisions are returned as a ``Plan`` of create/delete/update steps; the controller runs
  them.  A monotonic (OrderedReady) plan already stops where upstream would stop.
* There are no PersistentVolumeClaims in kubeviz: pods get the volumes that name their
  claims (so containers' volumeMounts resolve), but no claim is created or retained.
* Feature gates are at their v1.36 defaults: MaxUnavailableStatefulSet and PodIndexLabel on.
* Revision data is compared as JSON values; the hash is taken over its canonical JSON (sorted
  keys, as Go marshals a map).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubeviz.controllers.deployment.helpers import safe_encode
from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import new_controller_ref
from kubeviz.controllers.objects import spec as _spec
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.podcontrol import pod_from_template
from kubeviz.controllers.replicaset.helpers import is_pod_available, is_pod_ready

Obj = Mapping[str, Any]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
CREATE, DELETE, UPDATE = "create", "delete", "update"

_ORDINAL_NAME = re.compile(r"^(.*)-([0-9]+)$")
_INT32_MAX = 2**31 - 1


def _name(obj: Obj) -> str:
    return str(_meta(obj).get("name") or "")


# --- identity ---------------------------------------------------------------------------------


def parent_and_ordinal(pod_name: str) -> tuple[str, int]:
    """Split ``web-2`` into (``web``, 2); a name without an ordinal gives ("", -1)."""
    found = _ORDINAL_NAME.match(pod_name)
    if found is None:
        return "", -1
    ordinal = int(found.group(2))
    return (found.group(1), ordinal) if ordinal <= _INT32_MAX else (found.group(1), -1)


def ordinal_of(pod: Obj) -> int:
    """Return a pod's ordinal, or -1 when its name has none."""
    return parent_and_ordinal(_name(pod))[1]


def pod_name(sts: Obj, ordinal: int) -> str:
    return f"{_name(sts)}-{ordinal}"


def replicas_of(sts: Obj) -> int:
    value = _spec(sts).get("replicas")
    return 1 if value is None else int(value)


def start_ordinal(sts: Obj) -> int:
    """Return the first ordinal (``spec.ordinals.start``, default 0)."""
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def in_ordinal_range(pod: Obj, sts: Obj) -> bool:
    """Tell whether a pod's ordinal is one of the set's current replicas."""
    ordinal, start = ordinal_of(pod), start_ordinal(sts)
    return start <= ordinal < start + replicas_of(sts)


def is_member_of(sts: Obj, pod: Obj) -> bool:
    """Tell whether a pod's name makes it one of the set's (``<set>-<ordinal>``)."""
    return parent_and_ordinal(_name(pod))[0] == _name(sts)


def identity_matches(sts: Obj, pod: Obj) -> bool:
    """Tell whether a pod carries the name, namespace and name label its ordinal calls for."""
    parent, ordinal = parent_and_ordinal(_name(pod))
    return (
        ordinal >= 0
        and parent == _name(sts)
        and _name(pod) == pod_name(sts, ordinal)
        and _meta(pod).get("namespace") == _meta(sts).get("namespace")
        and (_meta(pod).get("labels") or {}).get(POD_NAME_LABEL) == _name(pod)
    )


def claim_name(sts: Obj, template: Obj, *, ordinal: int) -> str:
    """Return the PersistentVolumeClaim name of one claim template for one ordinal."""
    return f"{_name(template)}-{_name(sts)}-{ordinal}"


def storage_matches(sts: Obj, pod: Obj) -> bool:
    """Tell whether a pod mounts every claim its ordinal is owed."""
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.get("name"): v for v in _spec(pod).get("volumes") or []}
    for template in _spec(sts).get("volumeClaimTemplates") or []:
        source = (volumes.get(_name(template)) or {}).get("persistentVolumeClaim") or {}
        if source.get("claimName") != claim_name(sts, template, ordinal=ordinal):
            return False
    return True


def with_identity(sts: Obj, pod: Obj) -> dict[str, Any]:
    """Return ``pod`` with the identity labels of its ordinal and the set's claim volumes."""
    out = copy.deepcopy(dict(pod))
    ordinal = ordinal_of(out)
    meta = dict(out.get("metadata") or {})
    meta["name"] = pod_name(sts, ordinal)
    meta["namespace"] = _meta(sts).get("namespace")
    meta["labels"] = {
        **(meta.get("labels") or {}),
        POD_NAME_LABEL: meta["name"],
        POD_INDEX_LABEL: str(ordinal),
    }
    out["metadata"] = meta
    spec = dict(out.get("spec") or {})
    claims = [
        {"name": _name(t), "persistentVolumeClaim": {"claimName": claim_name(sts, t, ordinal=ordinal)}}
        for t in _spec(sts).get("volumeClaimTemplates") or []
    ]
    if claims:
        taken = {c["name"] for c in claims}
        spec["volumes"] = claims + [v for v in spec.get("volumes") or [] if v.get("name") not in taken]
    out["spec"] = spec
    return out


def new_pod(sts: Obj, ordinal: int, *, revision: str) -> dict[str, Any]:
    """Return the pod of one ordinal, built from the set's template and labelled with ``revision``.

    The hostname and subdomain are set only here, at creation: the pod's DNS name
    ``<pod>.<serviceName>`` comes from them, and they cannot change afterwards.
    """
    name = pod_name(sts, ordinal)
    pod = pod_from_template(_spec(sts).get("template") or {}, owner=sts, name=name)
    pod = with_identity(sts, pod)
    pod["spec"]["hostname"] = name
    if _spec(sts).get("serviceName"):
        pod["spec"]["subdomain"] = _spec(sts)["serviceName"]
    pod["metadata"]["labels"][REVISION_LABEL] = revision
    return pod


def new_versioned_pod(
    current_set: Obj, update_set: Obj, *, current_revision: str, update_revision: str, ordinal: int
) -> dict[str, Any]:
    """Return the pod an empty ordinal gets: the current revision below the partition, else the update.

    Upstream's condition is kept as written: ``(RollingUpdate and no rollingUpdate and ordinal
    below status.currentReplicas) or (rollingUpdate set and ordinal below partition)``.
    """
    strategy = _spec(current_set).get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    start = start_ordinal(current_set)
    below_current = (
        strategy.get("type", "RollingUpdate") == "RollingUpdate"
        and rolling is None
        and ordinal < start + int(_status(current_set).get("currentReplicas") or 0)
    )
    below_partition = rolling is not None and ordinal < start + int(rolling.get("partition") or 0)
    if below_current or below_partition:
        return new_pod(current_set, ordinal, revision=current_revision)
    return new_pod(update_set, ordinal, revision=update_revision)


# --- pod predicates ---------------------------------------------------------------------------


def _phase(pod: Obj) -> str:
    return str(_status(pod).get("phase") or "")


def is_created(pod: Obj) -> bool:
    """Tell whether the apiserver holds the pod (only stored pods have a phase)."""
    return _phase(pod) != ""


def is_terminating(pod: Obj) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def is_finished(pod: Obj) -> bool:
    """Tell whether a pod Failed or Succeeded: either way, its ordinal needs a new one."""
    return _phase(pod) in ("Failed", "Succeeded")


def is_running_and_ready(pod: Obj) -> bool:
    return _phase(pod) == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    return is_pod_available(pod, min_ready_seconds, now)


def is_unavailable(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """Tell whether a pod does not serve: not available, or on its way out."""
    return not is_running_and_available(pod, min_ready_seconds, now) or is_terminating(pod)


def revision_of(pod: Obj) -> str:
    return str((_meta(pod).get("labels") or {}).get(REVISION_LABEL) or "")


def allows_burst(sts: Obj) -> bool:
    """Tell whether pods are managed in Parallel rather than OrderedReady."""
    return _spec(sts).get("podManagementPolicy") == "Parallel"


# --- status -----------------------------------------------------------------------------------


def replica_status(
    pods: Iterable[Obj], *, min_ready_seconds: int, current_revision: str, update_revision: str, now: datetime
) -> dict[str, int]:
    """Count the replicas, ready, available, current and updated pods (``computeReplicaStatus``)."""
    counts = {
        "replicas": 0,
        "readyReplicas": 0,
        "availableReplicas": 0,
        "currentReplicas": 0,
        "updatedReplicas": 0,
    }
    for pod in pods:
        created = is_created(pod)
        counts["replicas"] += created
        if is_running_and_ready(pod):
            counts["readyReplicas"] += 1
            counts["availableReplicas"] += is_running_and_available(pod, min_ready_seconds, now)
        if created and not is_terminating(pod):
            counts["currentReplicas"] += revision_of(pod) == current_revision
            counts["updatedReplicas"] += revision_of(pod) == update_revision
    return counts


def complete_rolling_update(sts: Obj, status: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``status`` with the update made current once every replica runs it and is ready."""
    out = dict(status)
    strategy = (_spec(sts).get("updateStrategy") or {}).get("type", "RollingUpdate")
    if (
        strategy == "RollingUpdate"
        and out.get("updatedReplicas", 0) == out.get("replicas", 0)
        and out.get("readyReplicas", 0) == out.get("replicas", 0)
    ):
        out["currentReplicas"] = out.get("updatedReplicas", 0)
        out["currentRevision"] = out.get("updateRevision", "")
    return out


_COMPARED = (
    "replicas",
    "currentReplicas",
    "readyReplicas",
    "updatedReplicas",
    "currentRevision",
    "availableReplicas",
    "updateRevision",
)
_ZERO = {"currentRevision": "", "updateRevision": ""}


def inconsistent_status(sts: Obj, status: Mapping[str, Any]) -> bool:
    """Tell whether ``status`` differs from what the set reports, so it must be written."""
    old = _status(sts)
    if int(status.get("observedGeneration") or 0) > int(old.get("observedGeneration") or 0):
        return True
    return any(status.get(k, _ZERO.get(k, 0)) != old.get(k, _ZERO.get(k, 0)) for k in _COMPARED)


# Fields Go drops from JSON when empty (``omitempty``); replicas and availableReplicas always show.
_OMIT_WHEN_EMPTY = (
    "observedGeneration",
    "readyReplicas",
    "currentReplicas",
    "updatedReplicas",
    "currentRevision",
    "updateRevision",
)


def status_json(status: Mapping[str, Any]) -> dict[str, Any]:
    """Return a status as the apiserver would serialise it (empty optional fields left out)."""
    return {k: v for k, v in status.items() if k not in _OMIT_WHEN_EMPTY or v}


# --- revisions --------------------------------------------------------------------------------


def revision_patch(sts: Obj) -> dict[str, Any]:
    """Return the patch a ControllerRevision stores: the pod template, replacing the old one."""
    template = copy.deepcopy(dict(_spec(sts).get("template") or {}))
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _fnv32(data: bytes) -> int:
    """Return FNV-1 (multiply, then xor), 32 bits, as ``hash/fnv.New32``."""
    h = 0x811C9DC5
    for byte in data:
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= byte
    return h


def hash_revision(data: Obj, collision_count: int | None) -> str:
    """Return the hash naming a revision: FNV-32 of its data, then the collision count's digits."""
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(_fnv32(raw)))


def revision_name(prefix: str, hash_: str) -> str:
    """Return ``<owner>-<hash>``, trimming the owner so the name stays a valid object name."""
    return f"{prefix[:223]}-{hash_}"


def new_revision(sts: Obj, *, revision: int, collision_count: int) -> dict[str, Any]:
    """Return the ControllerRevision recording the set's current template (not yet stored)."""
    data = revision_patch(sts)
    hash_ = hash_revision(data, collision_count)
    template_labels = ((_spec(sts).get("template") or {}).get("metadata") or {}).get("labels") or {}
    meta: dict[str, Any] = {
        "name": revision_name(_name(sts), hash_),
        "namespace": _meta(sts).get("namespace"),
        "labels": {**template_labels, REVISION_LABEL: hash_},
        "ownerReferences": [new_controller_ref({"apiVersion": "apps/v1", "kind": "StatefulSet", **sts})],
    }
    if _meta(sts).get("annotations"):
        meta["annotations"] = dict(_meta(sts)["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": meta,
        "data": data,
        "revision": revision,
    }


def apply_revision(sts: Obj, revision: Obj) -> dict[str, Any]:
    """Return the set as it was at ``revision``: its template replaced by the recorded one."""
    out = copy.deepcopy(dict(sts))
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    out["spec"] = {**dict(out.get("spec") or {}), "template": template}
    return out


def sort_revisions(revisions: Iterable[Obj]) -> list[Obj]:
    """Sort revisions by number, then age, then name (``SortControllerRevisions``)."""
    return sorted(
        revisions,
        key=lambda r: (int(r.get("revision") or 0), str(_meta(r).get("creationTimestamp") or ""), _name(r)),
    )


def next_revision(revisions: list[Obj]) -> int:
    """Return one past the highest revision number of sorted revisions (1 when there are none)."""
    return int(revisions[-1].get("revision") or 0) + 1 if revisions else 1


def equal_revision(a: Obj | None, b: Obj | None) -> bool:
    """Tell whether two revisions record the same template."""
    if a is None or b is None:
        return a is b
    return a.get("data") == b.get("data")


@dataclass(frozen=True)
class UpdateRevisionChoice:
    """How to get the update revision: reuse the newest, roll back to an older one, or create it."""

    action: str  # "reuse", "rollback" or "create"
    revision: Obj


def choose_update_revision(revisions: list[Obj], candidate: Obj) -> UpdateRevisionChoice:
    """Pick the update revision for a freshly built ``candidate`` among sorted ``revisions``.

    The newest revision holding the same template is reused as is; an older one holding it
    is a rollback and gets the candidate's (higher) revision number; otherwise the candidate
    is created.
    """
    equal = [r for r in revisions if equal_revision(r, candidate)]
    if equal and equal_revision(revisions[-1], equal[-1]):
        return UpdateRevisionChoice("reuse", revisions[-1])
    if equal:
        return UpdateRevisionChoice("rollback", equal[-1])
    return UpdateRevisionChoice("create", candidate)


def revisions_to_truncate(
    sts: Obj, *, pods: Iterable[Obj], revisions: list[Obj], live: Iterable[str]
) -> list[Obj]:
    """Return the oldest revisions past ``revisionHistoryLimit`` that no pod nor the status uses."""
    alive = set(live) | {revision_of(p) for p in pods}
    history = [r for r in revisions if _name(r) not in alive]
    limit = _spec(sts).get("revisionHistoryLimit")
    limit = 10 if limit is None else int(limit)
    if limit < 0 or len(history) <= limit:
        return []
    return history[: len(history) - limit]


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One write the controller makes: create, delete or update (identity fix) of a pod."""

    verb: str
    pod: Obj
    #: A rolling-update deletion: each done takes one from currentReplicas.
    rolling: bool = False


@dataclass
class Plan:
    """What one sync does, in phases; a phase that fails stops those after it."""

    phases: list[list[Step]] = field(default_factory=list)
    #: Parallel policy: each phase goes out in slow-start batches, not one step at a time.
    burst: bool = False
    #: The pods whose counts the status reports (the ordinal slots and the condemned).
    counted: list[Obj] = field(default_factory=list)


def max_unavailable(sts: Obj) -> int:
    """Return how many replicas a rolling update may take down at once (at least 1)."""
    rolling = (_spec(sts).get("updateStrategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable", 1)
    if isinstance(value, str):
        if not value.endswith("%"):
            raise ValueError(f"invalid value {value!r}: string is not a percentage")
        value = math.floor(int(value[:-1]) * replicas_of(sts) / 100)
    return max(int(value), 1)


def plan_update(
    sts: Obj,
    *,
    pods: list[Obj],
    current_set: Obj,
    update_set: Obj,
    current_revision: str,
    update_revision: str,
    now: datetime,
) -> Plan:
    """Decide the creates, deletes and identity fixes that move the set toward its spec.

    OrderedReady (monotonic): replicas are walked in ordinal order and the walk stops at the
    first pod created, replaced, terminating, or not yet Running, Ready and available;
    surplus pods go one at a time from the highest ordinal, each only once every pod below it
    serves.  Parallel: every ordinal is handled at once and surplus pods all go together.
    Then a rolling update deletes, from the highest ordinal down to the partition, as many
    out-of-date pods as maxUnavailable leaves room for; the next syncs recreate them at the
    update revision.
    """
    min_ready = int(_spec(sts).get("minReadySeconds") or 0)
    start, count = start_ordinal(sts), replicas_of(sts)
    slots: list[Obj | None] = [None] * count
    condemned: list[Obj] = []
    for pod in pods:
        if in_ordinal_range(pod, sts):
            slots[ordinal_of(pod) - start] = pod
        elif ordinal_of(pod) >= 0:
            condemned.append(pod)
    replicas: list[Obj] = [
        slot
        if slot is not None
        else new_versioned_pod(
            current_set,
            update_set,
            current_revision=current_revision,
            update_revision=update_revision,
            ordinal=start + i,
        )
        for i, slot in enumerate(slots)
    ]
    condemned.sort(key=ordinal_of, reverse=True)
    plan = Plan(burst=allows_burst(sts), counted=replicas + condemned)
    if _meta(sts).get("deletionTimestamp"):
        return plan
    unavailable = [p for p in [*replicas, *reversed(condemned)] if is_unavailable(p, min_ready, now)]
    first_unavailable = _name(unavailable[0]) if unavailable else None
    monotonic = not plan.burst

    steps, blocked = _replica_steps(sts, replicas, monotonic=monotonic, min_ready=min_ready, now=now)
    plan.phases.append(steps)
    if blocked:
        return plan
    steps, blocked = _condemned_steps(
        condemned, first_unavailable, monotonic=monotonic, min_ready=min_ready, now=now
    )
    plan.phases.append(steps)
    if blocked or (_spec(sts).get("updateStrategy") or {}).get("type", "RollingUpdate") == "OnDelete":
        return plan
    plan.phases.append(
        _rolling_steps(sts, replicas, update_revision=update_revision, min_ready=min_ready, now=now)
    )
    return plan


def _replica_steps(
    sts: Obj, replicas: list[Obj], *, monotonic: bool, min_ready: int, now: datetime
) -> tuple[list[Step], bool]:
    """Walk the ordinal slots (``processReplica``); return the steps and whether the walk stopped."""
    steps: list[Step] = []
    for pod in replicas:
        if is_finished(pod):
            # Replace a finished pod: delete it now, recreate it once it is gone.
            if not is_terminating(pod):
                steps.append(Step(DELETE, pod))
            if monotonic:
                return steps, True
            continue
        if not is_created(pod):
            steps.append(Step(CREATE, pod))
            if monotonic:
                return steps, True
        if monotonic and (
            is_terminating(pod)
            or not is_running_and_ready(pod)
            or not is_running_and_available(pod, min_ready, now)
        ):
            return steps, True
        if is_created(pod) and not (identity_matches(sts, pod) and storage_matches(sts, pod)):
            steps.append(Step(UPDATE, with_identity(sts, pod)))
    return steps, False


def _condemned_steps(
    condemned: list[Obj], first_unavailable: str | None, *, monotonic: bool, min_ready: int, now: datetime
) -> tuple[list[Step], bool]:
    """Remove pods past the replica count, highest first (``processCondemned``)."""
    steps: list[Step] = []
    for pod in condemned:
        if is_terminating(pod):
            if monotonic:
                return steps, True
            continue
        serving = is_running_and_ready(pod) and is_running_and_available(pod, min_ready, now)
        if monotonic and not serving and _name(pod) != first_unavailable:
            return steps, True  # a pod below it is down: scaling down would stack the outage
        steps.append(Step(DELETE, pod))
        if monotonic:
            return steps, True
    return steps, False


def _rolling_steps(
    sts: Obj, replicas: list[Obj], *, update_revision: str, min_ready: int, now: datetime
) -> list[Step]:
    """Delete out-of-date pods from the highest ordinal down to the partition, within maxUnavailable."""
    rolling = (_spec(sts).get("updateStrategy") or {}).get("rollingUpdate")
    partition = int((rolling or {}).get("partition") or 0)
    budget = max_unavailable(sts) if rolling is not None else 1
    budget -= sum(1 for p in replicas if is_unavailable(p, min_ready, now))
    steps: list[Step] = []
    for target in range(len(replicas) - 1, partition - 1, -1):
        if len(steps) >= budget:
            break
        pod = replicas[target]
        if revision_of(pod) != update_revision and not is_terminating(pod):
            steps.append(Step(DELETE, pod, rolling=True))
    return steps
