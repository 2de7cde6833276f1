"""The ReplicaSet controller's loop: keep ``spec.replicas`` active pods for each ReplicaSet.

Mirrors ``syncReplicaSet`` and ``manageReplicas`` of ``pkg/controller/replicaset``.  Creates go
out in slow-start batches under expectations, so a sync never creates twice for the same
shortfall; a scale-down deletes the pods the upstream ranking picks first.  At most 500 pods
are created or deleted per sync (upstream's ``burstReplicas``); the next sync does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.rest import PODS, REPLICASETS, APIStatusError
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Observation, Watch, owner_key
from kubeviz.controllers.objects import meta, spec
from kubeviz.controllers.ownership import claim
from kubeviz.controllers.podcontrol import create_pod, delete_pod, pod_from_template
from kubeviz.controllers.replicaset import helpers

BURST_REPLICAS = 500
#: Creates in flight at once within a slow-start batch (upstream: one goroutine each).
CREATE_PARALLELISM = 8


def observe_pod(seen: Observation) -> None:
    """Lower the owning ReplicaSet's expectations as its pods come and go."""
    keys = owner_key("ReplicaSet")(seen.obj)
    if not keys:
        return
    if seen.event == "ADDED":
        seen.expectations.creation_observed(keys[0])
    elif (
        seen.event == "DELETED"
        or seen.event == "MODIFIED"
        and meta(seen.obj).get("deletionTimestamp")
        and not (seen.old and meta(seen.old).get("deletionTimestamp"))
    ):
        seen.expectations.deletion_observed(keys[0])


def sync(ctx: Context, key: str) -> None:
    """Bring one ReplicaSet's pods to its replica count and report its status."""
    namespace, name = split_key(key)
    rs = ctx.lister(REPLICASETS).get(namespace, name)
    if rs is None:
        ctx.expectations.forget(key)
        return
    needs_sync = ctx.expectations.satisfied(key)
    candidates = ctx.lister(PODS).list(namespace)
    owned = claim(ctx.client, PODS, owner=rs, candidates=candidates, selector=spec(rs).get("selector"))
    active = [p for p in owned if helpers.is_pod_active(p)]
    terminating = [p for p in owned if meta(p).get("deletionTimestamp")]
    error: str | None = None
    if needs_sync and not meta(rs).get("deletionTimestamp"):
        error = manage_replicas(ctx, key, rs, active)
    now = ctx.now()
    status = helpers.calculate_status(
        rs, active, now=now, terminating_pods=terminating, manage_replicas_error=error
    )
    updated = _write_status(ctx, rs, status)
    min_ready = int(spec(updated).get("minReadySeconds") or 0)
    replicas = int(spec(updated).get("replicas", 1))
    if min_ready > 0 and status["readyReplicas"] == replicas and status["availableReplicas"] != replicas:
        ctx.requeue_after(key, float(min_ready))
    if error is not None:
        raise RuntimeError(error)


def manage_replicas(
    ctx: Context, key: str, rs: Mapping[str, Any], active: list[dict[str, Any]]
) -> str | None:
    """Create or delete pods to close the gap; return the first error's message, if any."""
    diff = len(active) - int(spec(rs).get("replicas", 1))
    if diff < 0:
        count = min(-diff, BURST_REPLICAS)
        ctx.expectations.expect_creations(key, count)
        template = spec(rs).get("template") or {}

        def create_one() -> None:
            create_pod(ctx.client, ctx.events, owner=rs, pod=pod_from_template(template, owner=rs))

        created, error = helpers.slow_start_batch(
            count, helpers.SLOW_START_INITIAL_BATCH_SIZE, create_one, parallel=CREATE_PARALLELISM
        )
        if created < count:
            ctx.expectations.lower(key, add=count - created)  # those will never be seen
        return None if error is None else _message(error)
    if diff > 0:
        count = min(diff, BURST_REPLICAS)
        victims = helpers.get_pods_to_delete(active, [], count, now=ctx.now())
        ctx.expectations.expect_deletions(key, len(victims))
        first: str | None = None
        for pod in victims:
            try:
                if not delete_pod(ctx.client, ctx.events, owner=rs, pod=pod):
                    ctx.expectations.deletion_observed(key)
            except APIStatusError as exc:
                ctx.expectations.deletion_observed(key)
                first = first or exc.message
        return first
    return None


def _message(error: Exception) -> str:
    return error.message if isinstance(error, APIStatusError) else str(error)


def _write_status(ctx: Context, rs: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    if status == (rs.get("status") or {}):
        return rs
    try:
        return ctx.client.update_status(REPLICASETS, {**rs, "status": status})
    except APIStatusError as exc:
        if exc.is_not_found():
            return rs
        if exc.is_conflict():  # a newer version is on its way through the watch
            ctx.enqueue(f"{meta(rs)['namespace']}/{meta(rs)['name']}")
            return rs
        raise


CONTROLLER = Controller(
    name="replicaset",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(REPLICASETS),
        Watch(PODS, keys=owner_key("ReplicaSet"), observe=observe_pod),
    ),
)
