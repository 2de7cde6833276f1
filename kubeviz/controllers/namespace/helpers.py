"""Pure arithmetic of the namespace controller.

Mirrors ``pkg/controller/namespace/deletion``: the status conditions of
``status_condition_utils.go`` (their types, reasons and messages), the graceful-termination
estimate and requeue delay of ``namespaced_resources_deleter.go`` and ``namespace_controller.go``,
and the finalize step's new ``spec.finalizers``.

What is simplified: the resources to empty are kubeviz's built-in table, not discovery, so the
discovery and group-version parsing conditions only ever take their "all is well" form.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubeviz.client.rest import Resource
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

#: The finalizer the namespace controller owns in ``spec.finalizers``.
FINALIZER_KUBERNETES = "kubernetes"
#: Upstream's ``namespaceDeletionGracePeriod``: wait this long after the deletion is seen, so
#: last-minute creations are visible before the content is listed.
DELETION_GRACE_SECONDS = 5.0
#: Upstream's ``finalizerEstimateSeconds``: the wait assumed for objects held by finalizers.
FINALIZER_ESTIMATE_SECONDS = 15

DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"
GROUP_VERSION_PARSING_FAILURE = "NamespaceDeletionGroupVersionParsingFailure"
CONTENT_FAILURE = "NamespaceDeletionContentFailure"
CONTENT_REMAINING = "NamespaceContentRemaining"
FINALIZERS_REMAINING = "NamespaceFinalizersRemaining"

#: Every condition type the deleter maintains, in the order upstream writes them.
CONDITION_TYPES = (
    DISCOVERY_FAILURE,
    GROUP_VERSION_PARSING_FAILURE,
    CONTENT_FAILURE,
    CONTENT_REMAINING,
    FINALIZERS_REMAINING,
)
OK_MESSAGES = {
    DISCOVERY_FAILURE: "All resources successfully discovered",
    GROUP_VERSION_PARSING_FAILURE: "All legacy kube types successfully parsed",
    CONTENT_FAILURE: "All content successfully deleted, may be waiting on finalization",
    CONTENT_REMAINING: "All content successfully removed",
    FINALIZERS_REMAINING: "All content successfully removed",
}
OK_REASONS = {
    DISCOVERY_FAILURE: "ResourcesDiscovered",
    GROUP_VERSION_PARSING_FAILURE: "ParsedGroupVersions",
    CONTENT_FAILURE: "ContentDeleted",
    CONTENT_REMAINING: "ContentRemoved",
    FINALIZERS_REMAINING: "ContentRemoved",
}


def gvr_text(resource: Resource) -> str:
    """Print a resource as Go prints a ``GroupVersionResource`` (``apps/v1, Resource=replicasets``)."""
    return f"{resource.group}/{resource.version}, Resource={resource.plural}"


@dataclass
class ResourceRemaining:
    """What one resource still holds in the namespace after a deletion pass."""

    #: Seconds to wait before looking again; 0 makes no estimate (it does not mean "empty").
    estimate: int = 0
    remaining: int = 0
    finalizers: dict[str, int] = field(default_factory=dict)


def remaining_after_delete(items: list[Obj], *, estimate: int) -> ResourceRemaining:
    """Summarise what a list taken after ``deletecollection`` still shows.

    Objects held by finalizers are normal (the default finalizer estimate is assumed); objects
    left with neither a finalizer nor a graceful-termination estimate are unexpected, and the
    caller reports them as an error.
    """
    if not items:
        return ResourceRemaining()
    finalizers: dict[str, int] = {}
    for item in items:
        for name in (item.get("metadata") or {}).get("finalizers") or []:
            finalizers[name] = finalizers.get(name, 0) + 1
    if estimate:
        return ResourceRemaining(estimate=estimate, remaining=len(items), finalizers=finalizers)
    if finalizers:
        return ResourceRemaining(
            estimate=FINALIZER_ESTIMATE_SECONDS, remaining=len(items), finalizers=finalizers
        )
    return ResourceRemaining(remaining=len(items))


def unexpected_items_message(namespace: str, resource: Resource) -> str:
    """Return upstream's error for objects that should have gone but did not."""
    return f"unexpected items still remain in namespace: {namespace} for gvr: {gvr_text(resource)}"


def pod_termination_estimate(pods: Iterable[Obj]) -> int:
    """Return the longest grace period of the pods that have not finished (0 if none)."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if grace is not None and int(grace) > estimate:
            estimate = int(grace)
    return estimate


def allowed_estimate(estimate: int, *, deleted_at: datetime, now: datetime) -> int:
    """Drop an estimate that has already passed since the namespace's deletion began."""
    return 0 if (now - deleted_at).total_seconds() >= estimate else estimate


def requeue_seconds(estimate: int) -> int:
    """Return how long upstream waits before re-checking a namespace with content left."""
    return estimate // 2 + 1


def content_conditions(
    remaining: Mapping[Resource, int], finalizers: Mapping[str, int], *, now: datetime
) -> list[dict[str, Any]]:
    """Return the ContentRemaining / FinalizersRemaining conditions a deletion pass calls for."""
    out: list[dict[str, Any]] = []
    if remaining:
        # Upstream prints "<resource>.<group>", so a core resource keeps a trailing dot.
        parts = sorted(f"{r.plural}.{r.group} has {n} resource instances" for r, n in remaining.items() if n)
        out.append(
            _condition(
                CONTENT_REMAINING,
                "SomeResourcesRemain",
                f"Some resources are remaining: {', '.join(parts)}",
                now=now,
            )
        )
    if finalizers:
        parts = sorted(f"{name} in {n} resource instances" for name, n in finalizers.items() if n)
        out.append(
            _condition(
                FINALIZERS_REMAINING,
                "SomeFinalizerRemain",
                f"Some finalizers are remaining: {', '.join(parts)}",
                now=now,
            )
        )
    return out


def delete_content_condition(errors: list[str], *, now: datetime) -> dict[str, Any] | None:
    """Return the ContentFailure condition for the resources that could not be emptied."""
    if not errors:
        return None
    return _condition(
        CONTENT_FAILURE,
        "ContentDeletionFailed",
        f"Failed to delete all resource types, {len(errors)} remaining: {', '.join(sorted(errors))}",
        now=now,
    )


def update_conditions(
    conditions: list[Obj] | None, new: list[Obj], *, now: datetime
) -> tuple[list[dict[str, Any]], bool]:
    """Merge a pass's failing conditions into the namespace's; return them and whether they changed.

    Every maintained type is present afterwards: a type that did not fail this pass takes its
    "all is well" form.  The transition time moves only when the status flips.
    """
    out = [dict(c) for c in copy.deepcopy(conditions or [])]
    changed = False
    for ctype in CONDITION_TYPES:
        wanted = next((c for c in new if c["type"] == ctype), None)
        if wanted is None:
            wanted = _condition(ctype, OK_REASONS[ctype], OK_MESSAGES[ctype], status="False", now=now)
        old = next((c for c in out if c.get("type") == ctype), None)
        if old is None:
            out.append(dict(wanted))
            changed = True
            continue
        if (old.get("status"), old.get("message"), old.get("reason")) == (
            wanted["status"],
            wanted["message"],
            wanted["reason"],
        ):
            continue
        if old.get("status") != wanted["status"]:
            old["lastTransitionTime"] = format_time(now)
        old.update(status=wanted["status"], reason=wanted["reason"], message=wanted["message"])
        changed = True
    return out, changed


def finalized_spec(finalizers: Iterable[str], token: str = FINALIZER_KUBERNETES) -> list[str]:
    """Return ``spec.finalizers`` without ``token``, as the sorted set upstream sends."""
    return sorted({f for f in finalizers if f != token})


def deletion_time(namespace: Obj) -> datetime | None:
    """Return when the namespace's deletion began, or None if it is not being deleted."""
    return parse_time((namespace.get("metadata") or {}).get("deletionTimestamp"))


def _condition(
    ctype: str, reason: str, message: str, *, now: datetime, status: str = "True"
) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "lastTransitionTime": format_time(now),
        "reason": reason,
        "message": message,
    }
