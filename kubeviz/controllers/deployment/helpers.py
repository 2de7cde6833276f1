"""Pure arithmetic of the Deployment controller.

Mirrors ``pkg/controller/deployment/util/deployment_util.go`` (hash, fenceposts, revisions,
annotations, conditions, ``NewRSNewReplicas``, ``FindNewReplicaSet``, ``EqualIgnoreHash``,
the proportions of a resize), ``rolling.go`` (the old-ReplicaSet scale-down budget),
``recreate.go`` (``oldPodsRunning``), ``progress.go`` (the Progressing condition, the deadline
requeue) and ``sync.go`` (``calculateStatus``, ``cleanupDeployment``, ``scale``).

What is simplified:

* ``compute_pod_template_hash`` hashes a canonical JSON form of the template, not Go's
  ``spew`` dump of the typed struct, so its values differ from a real cluster's.  The shape
  (FNV-32a, the collision count mixed in as 8 little-endian bytes, the decimal digits mapped
  onto the 'safe' alphabet) and the stability (same template, same hash) are kept.
* ReplicaSets are plain dicts; helpers never mutate their arguments.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import spec as _spec
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
#: Annotations a Deployment keeps for itself instead of passing them to its ReplicaSets.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        ROLLBACK_TO_ANNOTATION,
    }
)
UNIQUE_LABEL_KEY = "pod-template-hash"
#: The revision-history annotation drops its oldest entries beyond this many characters.
MAX_REVISION_HISTORY_CHARS = 2000
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
_NO_DEADLINE = 2**31 - 1  # progressDeadlineSeconds at MaxInt32 means 'never time out'
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Condition types and reasons, spelled as upstream.
AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
ROLLBACK_DONE = "DeploymentRollback"
ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def _replicas(obj: Obj) -> int:
    """Return ``spec.replicas`` with the API default of 1."""
    value = _spec(obj).get("replicas")
    return 1 if value is None else int(value)


# --- hashing ----------------------------------------------------------------------------------


def _fnv32a(data: bytes, seed: int = 0x811C9DC5) -> int:
    h = seed
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """Map each character onto an alphabet without vowels or look-alikes.

    Names built from hashes must not spell words or contain ambiguous characters, so every
    byte is replaced by ``SAFE_ALPHABET[byte % 27]``.
    """
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def compute_pod_template_hash(template: Obj, collision_count: int | None = None) -> str:
    """Return the ``pod-template-hash`` label value for a pod template.

    The hash names the ReplicaSet (``<deployment>-<hash>``) and labels its pods, so equal
    templates must hash equally across restarts: the template is hashed as canonical JSON
    (sorted keys, no whitespace).  ``collisionCount`` is mixed in when set so that a name
    collision with a foreign ReplicaSet can be escaped by bumping it.
    """
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    h = _fnv32a(canonical.encode())
    if collision_count is not None:
        h = _fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + bytes(4), seed=h)
    return safe_encode(str(h))


# --- fenceposts -------------------------------------------------------------------------------


def scaled_value(value: int | str | None, total: int, *, round_up: bool) -> int:
    """Resolve an int-or-percent against ``total``; ``None`` is 0.

    Percentages are rounded by the caller's choice: surge up (a rollout always makes
    progress), unavailability down (never drop below what the user allowed).
    """
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError(f"invalid value {value!r}: string is not a percentage")
    try:
        percent = int(value[:-1])
    except ValueError as exc:
        raise ValueError(f"invalid value for IntOrString: {value!r}") from exc
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def resolve_fenceposts(
    max_surge: int | str | None, max_unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """Return (surge, unavailable) pod counts a rolling update may use.

    Validation forbids both being zero, but rounding a small percentage down can still make
    both zero, which would stall the rollout; then one pod may be unavailable (surge might be
    blocked by quota, unavailability never is).
    """
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(deployment: Obj) -> Obj | None:
    strategy = _spec(deployment).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {"maxSurge": "25%", "maxUnavailable": "25%"}


def max_unavailable(deployment: Obj) -> int:
    """Return how many pods a rolling update may take below ``spec.replicas`` (0 for Recreate)."""
    rolling, desired = _rolling(deployment), _replicas(deployment)
    if rolling is None or desired == 0:
        return 0
    _, unavailable = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"), desired)
    return min(unavailable, desired)


def max_surge(deployment: Obj) -> int:
    """Return how many pods a rolling update may run above ``spec.replicas`` (0 for Recreate)."""
    rolling = _rolling(deployment)
    if rolling is None:
        return 0
    surge, _ = resolve_fenceposts(
        rolling.get("maxSurge"), rolling.get("maxUnavailable"), _replicas(deployment)
    )
    return surge


# --- revisions and annotations ----------------------------------------------------------------


def revision(rs: Obj) -> int:
    """Return a ReplicaSet's revision annotation; absent or malformed counts as 0."""
    raw = (_meta(rs).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(raw) if raw is not None else 0
    except ValueError:
        return 0


def max_revision(rs_list: Iterable[Obj]) -> int:
    """Return the highest revision among ReplicaSets (0 for none); the next rollout gets +1."""
    return max((revision(rs) for rs in rs_list), default=0)


def revision_annotations(
    annotations: Mapping[str, str] | None, new_revision: int, *, limit: int = MAX_REVISION_HISTORY_CHARS
) -> dict[str, str]:
    """Return annotations carrying ``new_revision``, remembering a replaced one in the history.

    A rollback re-uses an old ReplicaSet, which then jumps to the newest revision; the
    revisions it had before are kept, comma-separated, in the revision-history annotation,
    whose oldest entries are dropped to stay within ``limit`` characters.  Revisions only
    move forward.
    """
    out = dict(annotations or {})
    old = out.get(REVISION_ANNOTATION)
    try:
        old_number = int(old) if old is not None else 0
    except ValueError:
        old_number = 0
    if old_number >= new_revision and old is not None:
        return out
    if old:
        history = [h for h in out.get(REVISION_HISTORY_ANNOTATION, "").split(",") if h]
        while history and len(",".join([*history, old])) > limit:
            history.pop(0)
        out[REVISION_HISTORY_ANNOTATION] = ",".join([*history, old])
    out[REVISION_ANNOTATION] = str(new_revision)
    return out


def copy_deployment_annotations(deployment: Obj, annotations: Mapping[str, str] | None) -> dict[str, str]:
    """Return a ReplicaSet's annotations with the Deployment's own ones copied over them.

    Users annotate the Deployment (``kubernetes.io/change-cause`` for one); each ReplicaSet
    keeps a copy, so the rollout history shows what each revision was for.  The Deployment's
    bookkeeping annotations are not copied, and nothing is ever removed.
    """
    out = dict(annotations or {})
    for key, value in (_meta(deployment).get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            out[key] = value
    return out


def new_replicaset_annotations(
    *, deployment: Obj, annotations: Mapping[str, str] | None, new_revision: int, exists: bool
) -> dict[str, str]:
    """Return the annotations the Deployment's new ReplicaSet should carry.

    The Deployment's annotations are copied, the revision moves forward to ``new_revision``,
    and a ReplicaSet about to be created also records the replica counts it is sized for.
    """
    out = revision_annotations(copy_deployment_annotations(deployment, annotations), new_revision)
    return out if exists else replicas_annotations(out, deployment)


def deployment_annotations_from(deployment: Obj, rs: Obj) -> dict[str, str]:
    """Return the annotations a Deployment gets when it rolls back to ``rs``'s template.

    The Deployment keeps its bookkeeping annotations and takes the ReplicaSet's others, so
    the change-cause of the restored revision comes back with it.
    """
    own = _meta(deployment).get("annotations") or {}
    out = {k: v for k, v in own.items() if k in ANNOTATIONS_TO_SKIP}
    for key, value in (_meta(rs).get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            out[key] = value
    return out


def last_revision(rs_list: Iterable[Obj]) -> int:
    """Return the second-highest revision: the one before the current, 0 if there is none."""
    top, second = 0, 0
    for rs in rs_list:
        value = revision(rs)
        if value >= top:
            top, second = value, top
        elif value > second:
            second = value
    return second


def rollback_to(deployment: Obj) -> int | None:
    """Return the revision a (deprecated) rollback annotation asks for, or None.

    apps/v1 dropped ``spec.rollbackTo``; the annotation carries it for old clients.  An
    unparsable value is ignored, as upstream does.
    """
    raw = (_meta(deployment).get("annotations") or {}).get(ROLLBACK_TO_ANNOTATION)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _annotation_int(rs: Obj, key: str) -> int | None:
    raw = (_meta(rs).get("annotations") or {}).get(key)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def desired_replicas_of(rs: Obj) -> int | None:
    """Return the Deployment size a ReplicaSet was last sized for, or None if unrecorded."""
    return _annotation_int(rs, DESIRED_REPLICAS_ANNOTATION)


def replicas_annotations_need_update(rs: Obj, deployment: Obj) -> bool:
    """Tell whether a ReplicaSet's desired/max-replicas annotations are out of date."""
    wanted = replicas_annotations(None, deployment)
    have = _meta(rs).get("annotations") or {}
    return any(have.get(k) != v for k, v in wanted.items())


def replicas_annotations(annotations: Mapping[str, str] | None, deployment: Obj) -> dict[str, str]:
    """Return annotations recording the deployment's desired and maximum pod counts.

    Proportional scaling of a Deployment resized mid-rollout reads these to learn what size
    each ReplicaSet was last sized for.
    """
    desired = _replicas(deployment)
    out = dict(annotations or {})
    out[DESIRED_REPLICAS_ANNOTATION] = str(desired)
    out[MAX_REPLICAS_ANNOTATION] = str(desired + max_surge(deployment))
    return out


# --- scaling ----------------------------------------------------------------------------------


def _spec_total(rs_list: Iterable[Obj]) -> int:
    return sum(_replicas(rs) for rs in rs_list)


def new_rs_replicas(*, deployment: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """Return how many replicas the new ReplicaSet should have in this sync.

    Rolling updates grow the new ReplicaSet until all ReplicaSets together reach
    ``replicas + maxSurge``, never past ``replicas`` itself; Recreate jumps straight to
    ``replicas`` (the old ones were already scaled to zero).
    """
    desired, current = _replicas(deployment), _replicas(new_rs)
    if _rolling(deployment) is None:
        return desired
    ceiling = desired + max_surge(deployment)
    total = _spec_total(all_rss)
    if total >= ceiling:
        return current
    return current + min(ceiling - total, desired - current)


def _by_creation(rs_list: Iterable[Obj]) -> list[Obj]:
    """Sort ReplicaSets oldest first, names breaking ties (upstream's ByCreationTimestamp)."""

    def key(rs: Obj) -> tuple[str, str]:
        return (str(_meta(rs).get("creationTimestamp") or ""), str(_meta(rs).get("name") or ""))

    return sorted(rs_list, key=key)


@dataclass(frozen=True)
class OldScaleDown:
    """What one reconcile of old ReplicaSets does: their new sizes, by ReplicaSet name."""

    replicas: dict[str, int] = field(default_factory=dict)
    cleaned_up: int = 0
    scaled_down: int = 0


def reconcile_old_replicasets(*, deployment: Obj, new_rs: Obj, old_rss: list[Obj]) -> OldScaleDown:
    """Plan how far old ReplicaSets shrink in one rolling-update step.

    The budget is ``all pods - minAvailable - unavailable pods of the new ReplicaSet``: new
    pods that are not yet available must not be counted on.  Old ReplicaSets with unavailable
    pods are shrunk first (removing a pod that serves nothing costs no availability, and such
    pods would otherwise block the rollout), oldest first; then available old pods go, oldest
    ReplicaSet first, only while the available count stays above ``minAvailable``.
    """
    old_total = _spec_total(old_rss)
    if old_total == 0:
        return OldScaleDown()
    min_available = _replicas(deployment) - max_unavailable(deployment)
    new_unavailable = _replicas(new_rs) - int(_status(new_rs).get("availableReplicas") or 0)
    budget = old_total + _replicas(new_rs) - min_available - new_unavailable
    if budget <= 0:
        return OldScaleDown()
    sizes = {_meta(rs).get("name", ""): _replicas(rs) for rs in old_rss}
    ordered = _by_creation(old_rss)
    cleaned = 0
    for rs in ordered:
        name, available = _meta(rs).get("name", ""), int(_status(rs).get("availableReplicas") or 0)
        if cleaned >= budget:
            break
        if sizes[name] == 0 or sizes[name] == available:
            continue
        step = min(budget - cleaned, sizes[name] - available)
        sizes[name] -= step
        cleaned += step
    available_all = sum(int(_status(rs).get("availableReplicas") or 0) for rs in [*old_rss, new_rs])
    scaled = 0
    allowance = available_all - min_available
    for rs in ordered:
        name = _meta(rs).get("name", "")
        if scaled >= allowance:
            break
        if sizes[name] == 0:
            continue
        step = min(sizes[name], allowance - scaled)
        sizes[name] -= step
        scaled += step
    original = {_meta(rs).get("name", ""): _replicas(rs) for rs in old_rss}
    changed = {name: size for name, size in sizes.items() if size != original[name]}
    return OldScaleDown(replicas=changed, cleaned_up=cleaned, scaled_down=scaled)


def clean_up_old_replicasets(old_rss: list[Obj], revision_history_limit: int | None) -> list[Obj]:
    """Choose the old ReplicaSets to delete so at most ``revisionHistoryLimit`` remain.

    Old ReplicaSets are the rollback history.  Only the surplus is considered, oldest revision
    first (creation time breaking ties); among those, any still holding pods, not yet observed
    by the ReplicaSet controller, or already being deleted is kept, and nothing newer is taken
    in its place.  ``None`` means keep everything.
    """
    if revision_history_limit is None:
        return []
    alive = [rs for rs in old_rss if not _meta(rs).get("deletionTimestamp")]
    surplus = len(alive) - revision_history_limit
    if surplus <= 0:
        return []

    def older(a: Obj, b: Obj) -> int:
        if revision(a) != revision(b):
            return revision(a) - revision(b)
        ordered = _by_creation([a, b])
        return 0 if ordered[0] is ordered[1] else (-1 if ordered[0] is a else 1)

    candidates = sorted(alive, key=functools.cmp_to_key(older))[:surplus]
    return [
        rs
        for rs in candidates
        if int(_status(rs).get("replicas") or 0) == 0
        and _replicas(rs) == 0
        and int(_meta(rs).get("generation") or 0) <= int(_status(rs).get("observedGeneration") or 0)
    ]


def _newest_first_on_ties(rs_list: list[Obj], *, newer_first: bool) -> list[Obj]:
    """Sort largest first; equal sizes go newest first when scaling up, oldest first when down."""
    ordered = _by_creation(rs_list)
    if newer_first:
        ordered.reverse()
    return sorted(ordered, key=_replicas, reverse=True)  # sorted() is stable: ties keep that order


def active_replicasets(rs_list: Iterable[Obj | None]) -> list[Obj]:
    """Return the ReplicaSets that want pods (``spec.replicas`` above zero)."""
    return [rs for rs in rs_list if rs is not None and _replicas(rs) > 0]


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """Return the only ReplicaSet that wants pods, the newest one if none does, else None.

    With a single active ReplicaSet no rollout is under way, so a resize goes to it whole.
    """
    if new_rs is None and not old_rss:
        return None
    newest_old = list(reversed(_by_creation(old_rss)))
    alive = active_replicasets([*newest_old, new_rs])
    if len(alive) == 1:
        return alive[0]
    if not alive:
        return new_rs if new_rs is not None else newest_old[0]
    return None


def is_saturated(deployment: Obj, rs: Obj | None) -> bool:
    """Tell whether ``rs`` is sized for, and runs, exactly the Deployment's replicas."""
    if rs is None:
        return False
    desired = _replicas(deployment)
    return (
        desired_replicas_of(rs) == desired
        and _replicas(rs) == desired
        and int(_status(rs).get("availableReplicas") or 0) == desired
    )


def is_scaling_event(deployment: Obj, active_rss: Iterable[Obj]) -> bool:
    """Tell whether ``spec.replicas`` changed since the active ReplicaSets were last sized.

    Each ReplicaSet records the Deployment size it was sized for; a different size now means
    the user resized the Deployment, which is handled before (and apart from) any rollout.
    """
    desired = _replicas(deployment)
    for rs in active_rss:
        recorded = desired_replicas_of(rs)
        if recorded is not None and recorded != desired:
            return True
    return False


def _proportion(rs: Obj, deployment: Obj, *, to_add: int, added: int) -> int:
    """Return this ReplicaSet's share of a resize, never beyond what is left to hand out."""
    size = _replicas(rs)
    if size == 0 or to_add == 0 or to_add == added:
        return 0
    desired = _replicas(deployment)
    if desired == 0:
        fraction = -size
    else:
        ceiling = desired + max_surge(deployment)
        before = _annotation_int(rs, MAX_REPLICAS_ANNOTATION)
        if not before:
            # Edited by hand: fall back to the current total, which keeps the result in bounds.
            before = int(_status(deployment).get("replicas") or 0)
        fraction = (math.floor(size * ceiling / before + 0.5) - size) if before else 0
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


@dataclass(frozen=True)
class ProportionalScale:
    """Where a resize in mid-rollout sends each ReplicaSet, and which way it goes."""

    sizes: dict[str, int] = field(default_factory=dict)
    direction: str = ""  # "up", "down" or "" when the total is already right


def proportional_scale(*, deployment: Obj, active_rss: list[Obj]) -> ProportionalScale:
    """Spread a resize over several active ReplicaSets in proportion to their sizes.

    The total may reach ``replicas + maxSurge``.  Each ReplicaSet gets its share of the
    difference, scaled from the maximum it was last sized for (its max-replicas annotation);
    rounding leftovers go to the largest one.  Scaling up, equal sizes favour the newer
    ReplicaSet; scaling down, the older one shrinks first.
    """
    desired = _replicas(deployment)
    allowed = desired + max_surge(deployment) if desired > 0 else 0
    to_add = allowed - _spec_total(active_rss)
    if to_add == 0:
        return ProportionalScale({_meta(rs).get("name", ""): _replicas(rs) for rs in active_rss})
    ordered = _newest_first_on_ties(active_rss, newer_first=to_add > 0)
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        share = _proportion(rs, deployment, to_add=to_add, added=added)
        sizes[_meta(rs).get("name", "")] = _replicas(rs) + share
        added += share
    largest = _meta(ordered[0]).get("name", "")
    sizes[largest] = max(sizes[largest] + to_add - added, 0)
    return ProportionalScale(sizes, "up" if to_add > 0 else "down")


# --- finding the ReplicaSets ------------------------------------------------------------------


def _without_empties(value: Any) -> Any:
    """Drop empty maps, empty lists and nulls, which Go's semantic equality treats as unset."""
    if isinstance(value, Mapping):
        cleaned = {k: _without_empties(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_without_empties(v) for v in value]
    return value


def template_without_hash(template: Obj) -> dict[str, Any]:
    """Return a pod template without its ``pod-template-hash`` label."""
    out = json.loads(json.dumps(template))
    labels = (out.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(UNIQUE_LABEL_KEY, None)
    return out


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    """Tell whether two pod templates are the same apart from the ``pod-template-hash`` label."""
    return _without_empties(template_without_hash(a)) == _without_empties(template_without_hash(b))


def find_new_replicaset(deployment: Obj, rs_list: Iterable[Obj]) -> Obj | None:
    """Return the oldest ReplicaSet whose template is the Deployment's, or None."""
    template = _spec(deployment).get("template") or {}
    for rs in _by_creation(rs_list):
        if equal_ignore_hash(_spec(rs).get("template") or {}, template):
            return rs
    return None


def with_hash(template: Obj, pod_template_hash: str) -> dict[str, Any]:
    """Return a pod template whose labels carry ``pod-template-hash``."""
    out = json.loads(json.dumps(template))
    meta = out.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), UNIQUE_LABEL_KEY: pod_template_hash}
    return out


def selector_with_hash(selector: Obj | None, pod_template_hash: str) -> dict[str, Any]:
    """Return a label selector that also requires ``pod-template-hash``.

    It keeps the ReplicaSets of one Deployment from claiming each other's pods.
    """
    out = json.loads(json.dumps(selector or {}))
    out["matchLabels"] = {**(out.get("matchLabels") or {}), UNIQUE_LABEL_KEY: pod_template_hash}
    return out


def old_pods_running(*, new_rs: Obj | None, old_rss: list[Obj], pods_by_rs: Mapping[str, list[Obj]]) -> bool:
    """Tell whether any pod of an old ReplicaSet may still be running.

    Recreate promises that old and new pods never run together, so it waits until old
    ReplicaSets report no pods and no pod of theirs is left outside a terminal phase.
    """
    if sum(int(_status(rs).get("replicas") or 0) for rs in old_rss) > 0:
        return True
    new_uid = _meta(new_rs).get("uid") if new_rs is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        if any((p.get("status") or {}).get("phase") not in ("Failed", "Succeeded") for p in pods):
            return True
    return False


# --- conditions -------------------------------------------------------------------------------


def new_condition(kind: str, status: str, reason: str, message: str, *, now: datetime) -> dict[str, str]:
    """Build a Deployment condition stamped with ``now`` for both update and transition."""
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Obj, kind: str) -> dict[str, Any] | None:
    """Return the condition of the given type from a status, or ``None``."""
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def set_condition(status: Obj, condition: Mapping[str, Any]) -> dict[str, Any]:
    """Return a status with ``condition`` in place of the one of its type.

    Nothing changes when status and reason are the same (the existing condition, with its
    timestamps, is already right); when only the reason or message changes,
    ``lastTransitionTime`` is kept so it keeps meaning 'when the status last flipped'.
    """
    out = dict(status)
    current = get_condition(status, condition["type"])
    if (
        current
        and current["status"] == condition["status"]
        and current.get("reason") == condition.get("reason")
    ):
        return out
    new = dict(condition)
    if current and current["status"] == new["status"]:
        new["lastTransitionTime"] = current.get("lastTransitionTime")
    others = [c for c in status.get("conditions") or [] if c.get("type") != new["type"]]
    out["conditions"] = [*others, new]
    return out


def remove_condition(status: Obj, kind: str) -> dict[str, Any]:
    """Return a status without the condition of the given type."""
    out = dict(status)
    out["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    return out


def new_rs_created_condition(rs_name: str, *, now: datetime) -> dict[str, str]:
    """Build the Progressing condition recorded when the controller creates a new ReplicaSet."""
    return new_condition(PROGRESSING, "True", NEW_RS_CREATED, f'Created new replica set "{rs_name}"', now=now)


def found_new_rs_condition(rs_name: str, *, now: datetime) -> dict[str, str]:
    """Build the Progressing condition recorded when the new ReplicaSet already exists."""
    return new_condition(PROGRESSING, "True", FOUND_NEW_RS, f'Found new replica set "{rs_name}"', now=now)


def deployment_complete(deployment: Obj, status: Obj) -> bool:
    """Tell whether every desired pod is updated, available, and nothing old is left."""
    desired = _replicas(deployment)
    return (
        int(status.get("updatedReplicas") or 0) == desired
        and int(status.get("replicas") or 0) == desired
        and int(status.get("availableReplicas") or 0) == desired
        and int(status.get("observedGeneration") or 0) >= int(_meta(deployment).get("generation") or 0)
    )


def deployment_progressing(deployment: Obj, status: Obj) -> bool:
    """Tell whether the new status shows progress over the deployment's recorded status.

    Progress is any of: more updated pods, fewer old pods, more ready or more available pods.
    """
    old = _status(deployment)

    def old_pods(s: Obj) -> int:
        return int(s.get("replicas") or 0) - int(s.get("updatedReplicas") or 0)

    return (
        int(status.get("updatedReplicas") or 0) > int(old.get("updatedReplicas") or 0)
        or old_pods(status) < old_pods(old)
        or int(status.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
        or int(status.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0)
    )


def has_progress_deadline(deployment: Obj) -> bool:
    """Tell whether the deployment can time out (a MaxInt32 deadline means it cannot)."""
    deadline = _spec(deployment).get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS)
    return deadline is not None and int(deadline) != _NO_DEADLINE


def deployment_timed_out(deployment: Obj, now: datetime, status: Obj | None = None) -> bool:
    """Tell whether the rollout has made no progress for ``progressDeadlineSeconds``.

    The clock runs from the Progressing condition's ``lastUpdateTime`` (the last progress
    seen).  A finished rollout never times out; one already marked timed out stays so.
    """
    if not has_progress_deadline(deployment):
        return False
    cond = get_condition(status if status is not None else _status(deployment), PROGRESSING)
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    deadline = int(_spec(deployment).get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS))
    return since is not None and since + timedelta(seconds=deadline) < now


def sync_progress_condition(
    *, deployment: Obj, status: Obj, new_rs_name: str | None, now: datetime
) -> dict[str, Any]:
    """Return ``status`` with the Progressing condition the rollout now deserves.

    Complete → NewReplicaSetAvailable; progressing → ReplicaSetUpdated with a fresh
    ``lastUpdateTime`` even if the reason is unchanged (that timestamp is what the deadline
    is measured from); stuck past the deadline → ProgressDeadlineExceeded.  A rollout that
    already completed is left alone.
    """
    if not has_progress_deadline(deployment):
        return dict(status)
    current = get_condition(_status(deployment), PROGRESSING)
    done = (
        int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    if done:
        return dict(status)
    kind, name = ("ReplicaSet", new_rs_name) if new_rs_name else ("Deployment", _meta(deployment).get("name"))
    if deployment_complete(deployment, status):
        msg = f'{kind} "{name}" has successfully progressed.'
        return set_condition(status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, msg, now=now))
    if deployment_progressing(deployment, status):
        cond = new_condition(PROGRESSING, "True", RS_UPDATED, f'{kind} "{name}" is progressing.', now=now)
        if current is not None:
            if current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
            status = remove_condition(status, PROGRESSING)
        return set_condition(status, cond)
    if deployment_timed_out(deployment, now, status):
        msg = f'{kind} "{name}" has timed out progressing.'
        return set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT, msg, now=now))
    return dict(status)


def progress_check_delay(deployment: Obj, status: Obj, *, now: datetime) -> float | None:
    """Return seconds until a stalled rollout's deadline passes, or None if nothing to check.

    A rollout that shows no progress is looked at again once its deadline has passed, so it
    is marked ProgressDeadlineExceeded without waiting for some unrelated event.
    """
    current = get_condition(_status(deployment), PROGRESSING)
    if not has_progress_deadline(deployment) or current is None:
        return None
    if deployment_complete(deployment, status) or current.get("reason") == TIMED_OUT:
        return None
    since = parse_time(current.get("lastUpdateTime"))
    if since is None:
        return None
    deadline = int(_spec(deployment).get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS))
    return (since + timedelta(seconds=deadline) - now).total_seconds()


def replica_failure_condition(all_rss: Iterable[Obj | None], new_rs: Obj | None) -> dict[str, Any] | None:
    """Return the ReplicaFailure condition to copy from a ReplicaSet, the new one's first."""
    for group in ([new_rs], list(all_rss)):
        for rs in group:
            if rs is None:
                continue
            for cond in _status(rs).get("conditions") or []:
                if cond.get("type") == REPLICA_FAILURE:
                    stamp = cond.get("lastTransitionTime")
                    return {
                        "type": REPLICA_FAILURE,
                        "status": cond.get("status"),
                        "lastUpdateTime": stamp,
                        "lastTransitionTime": stamp,
                        "reason": cond.get("reason"),
                        "message": cond.get("message"),
                    }
    return None


# --- status -----------------------------------------------------------------------------------


def calculate_status(
    *, deployment: Obj, all_rss: list[Obj], new_rs: Obj | None, now: datetime
) -> dict[str, Any]:
    """Return the Deployment status for its ReplicaSets, with the Available condition.

    ``replicas`` counts pods that exist (ReplicaSet status), ``unavailableReplicas`` pods that
    are wanted (ReplicaSet spec) but not available, floored at 0 while scaling down.  The
    Deployment is Available when available pods reach ``replicas - maxUnavailable``.
    """
    available = sum(int(_status(rs).get("availableReplicas") or 0) for rs in all_rss)
    status: dict[str, Any] = {
        "observedGeneration": int(_meta(deployment).get("generation") or 0),
        "replicas": sum(int(_status(rs).get("replicas") or 0) for rs in all_rss),
        "updatedReplicas": int(_status(new_rs).get("replicas") or 0) if new_rs is not None else 0,
        "readyReplicas": sum(int(_status(rs).get("readyReplicas") or 0) for rs in all_rss),
        "availableReplicas": available,
        "unavailableReplicas": max(_spec_total(all_rss) - available, 0),
        "terminatingReplicas": sum(int(_status(rs).get("terminatingReplicas") or 0) for rs in all_rss),
        "conditions": [dict(c) for c in _status(deployment).get("conditions") or []],
    }
    if _status(deployment).get("collisionCount") is not None:
        status["collisionCount"] = _status(deployment)["collisionCount"]
    if available >= _replicas(deployment) - max_unavailable(deployment):
        cond = new_condition(
            AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.", now=now
        )
    else:
        msg = "Deployment does not have minimum availability."
        cond = new_condition(AVAILABLE, "False", MIN_UNAVAILABLE, msg, now=now)
    return set_condition(status, cond)
