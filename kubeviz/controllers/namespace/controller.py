"""The namespace controller's loop: delete a terminating namespace's content, then finalize it.

Mirrors ``NamespaceController`` of ``pkg/controller/namespace/namespace_controller.go`` and
``namespacedResourcesDeleter.Delete`` of ``deletion/namespaced_resources_deleter.go``.  When a
Namespace has a ``deletionTimestamp``, every namespaced resource in it is emptied with a
Background ``deletecollection`` (or object by object where a collection delete is refused), the
deletion conditions are written to its status, and the key is looked at again after upstream's
estimate while content remains.  Once nothing is left, the ``kubernetes`` finalizer is removed
through ``namespaces/<name>/finalize`` and the apiserver removes the namespace.

What is simplified: the resources are kubeviz's built-in table instead of discovery, and the
5 s ``namespaceDeletionGracePeriod`` (like every delay here) is scaled by the cluster speed and
counted from the ``deletionTimestamp`` rather than from each event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kubeviz.client.rest import BUILTIN, NAMESPACES, PODS, APIStatusError, Resource
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Obj, Watch
from kubeviz.controllers.namespace import helpers
from kubeviz.controllers.objects import meta, spec, status

log = logging.getLogger(__name__)

#: Every namespaced resource the deleter empties (all of them support delete).  Upstream's
#: order is unspecified; workloads go first here so their controllers do not recreate pods
#: that were just deleted (the recreations would be refused anyway).
NAMESPACED = tuple(
    sorted((r for r in BUILTIN if r.namespaced), key=lambda r: r.group not in ("apps", "batch"))
)
#: How often a write that lost a race is retried with a fresh read (upstream loops until done).
CONFLICT_RETRIES = 5
BACKGROUND = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}


def terminating_key(obj: Mapping[str, Any]) -> list[str]:
    """Map a Namespace to its key, but only once it is being deleted (as upstream enqueues)."""
    return [meta(obj)["name"]] if meta(obj).get("deletionTimestamp") else []


def sync(ctx: Context, key: str) -> None:
    """Empty one terminating namespace and release it once nothing is left."""
    cached = ctx.lister(NAMESPACES).get(None, key)
    if cached is None:
        log.info("Namespace has been deleted: %s", key)
        return
    deleted_at = helpers.deletion_time(cached)
    if deleted_at is None:
        return  # a resync of a live namespace
    wait = ctx.scaled(helpers.DELETION_GRACE_SECONDS) - (ctx.now() - deleted_at).total_seconds()
    if wait > 0:
        ctx.requeue_after(key, wait)
        return
    # Several writers touch a terminating namespace: act on its latest state, as upstream.
    namespace = _get(ctx, key)
    if namespace is None or not meta(namespace).get("deletionTimestamp"):
        return
    namespace = _retry_on_conflict(ctx, namespace, _mark_terminating)
    if namespace is None or not spec(namespace).get("finalizers"):
        return
    estimate = _delete_all_content(ctx, namespace)
    if estimate > 0:
        seconds = helpers.requeue_seconds(estimate)
        log.info("Content remaining in namespace %s; looking again in %ss", key, seconds)
        ctx.requeue_after(key, ctx.scaled(seconds))
        return
    _retry_on_conflict(ctx, namespace, _finalize)


def _get(ctx: Context, name: str) -> Obj | None:
    try:
        return ctx.client.get(NAMESPACES, name)
    except APIStatusError as exc:
        if exc.is_not_found():
            return None
        raise


def _retry_on_conflict(
    ctx: Context, namespace: Obj, write: Callable[[Context, Obj], Obj | None]
) -> Obj | None:
    """Run ``write``, re-reading the namespace after each conflict; None once it is gone."""
    latest: Obj | None = namespace
    for attempt in range(CONFLICT_RETRIES):
        assert latest is not None
        try:
            return write(ctx, latest)
        except APIStatusError as exc:
            if exc.is_not_found():
                return None
            if not exc.is_conflict() or attempt == CONFLICT_RETRIES - 1:
                raise
        previous = latest
        latest = _get(ctx, meta(previous)["name"])
        if latest is None:
            return None
        if meta(latest).get("uid") != meta(previous).get("uid"):
            raise RuntimeError("namespace uid has changed across retries")
    return latest


def _mark_terminating(ctx: Context, namespace: Obj) -> Obj:
    if status(namespace).get("phase") == "Terminating":
        return namespace
    return ctx.client.update_status(
        NAMESPACES, {**namespace, "status": {**status(namespace), "phase": "Terminating"}}
    )


def _finalize(ctx: Context, namespace: Obj) -> Obj:
    finalizers = helpers.finalized_spec(spec(namespace).get("finalizers") or [])
    body = {**namespace, "spec": {**spec(namespace), "finalizers": finalizers}}
    log.info("Finalizing namespace %s", meta(namespace)["name"])
    return ctx.client.update(NAMESPACES, body, subresource="finalize")


def _delete_all_content(ctx: Context, namespace: Obj) -> int:
    """Delete everything in the namespace; return the estimate of seconds until it is gone.

    Raises (after writing the conditions) if some resource could not be emptied.
    """
    name = meta(namespace)["name"]
    deleted_at = helpers.deletion_time(namespace)
    assert deleted_at is not None
    estimate = 0
    errors: list[str] = []
    remaining: dict[Resource, int] = {}
    finalizers: dict[str, int] = {}
    for resource in NAMESPACED:
        try:
            left = _delete_resource(ctx, resource, name, deleted_at=deleted_at)
        except APIStatusError as exc:
            errors.append(exc.message)
            continue
        except _Unexpected as exc:
            errors.append(str(exc))
            left = exc.left
        estimate = max(estimate, left.estimate)
        if left.remaining:
            remaining[resource] = left.remaining
            for finalizer, count in left.finalizers.items():
                finalizers[finalizer] = finalizers.get(finalizer, 0) + count
    now = ctx.now()
    failing = helpers.content_conditions(remaining, finalizers, now=now)
    content_failure = helpers.delete_content_condition(errors, now=now)
    if content_failure is not None:
        failing.append(content_failure)
    conditions, changed = helpers.update_conditions(status(namespace).get("conditions"), failing, now=now)
    if changed:
        try:
            ctx.client.update_status(
                NAMESPACES, {**namespace, "status": {**status(namespace), "conditions": conditions}}
            )
        except APIStatusError as exc:
            log.warning("couldn't update status condition for namespace %q: %s", name, exc.message)
    if errors:
        raise RuntimeError(f"deletion of namespace {name} failed: {'; '.join(sorted(errors))}")
    return estimate


class _Unexpected(Exception):
    """Objects without finalizers or a grace period survived their deletion."""

    def __init__(self, message: str, left: helpers.ResourceRemaining) -> None:
        super().__init__(message)
        self.left = left


def _delete_resource(
    ctx: Context, resource: Resource, namespace: str, *, deleted_at: datetime
) -> helpers.ResourceRemaining:
    """Delete one resource's objects in the namespace; report what is left."""
    estimate = 0
    if resource == PODS:
        pods = ctx.client.list_all(PODS, namespace=namespace).items
        estimate = helpers.allowed_estimate(
            helpers.pod_termination_estimate(pods), deleted_at=deleted_at, now=ctx.now()
        )
    if not _delete_collection(ctx, resource, namespace):
        _delete_each(ctx, resource, namespace)
    items = ctx.client.list_all(resource, namespace=namespace).items
    left = helpers.remaining_after_delete(items, estimate=estimate)
    if left.remaining and not left.estimate:
        raise _Unexpected(helpers.unexpected_items_message(namespace, resource), left)
    return left


def _delete_collection(ctx: Context, resource: Resource, namespace: str) -> bool:
    """Delete the whole collection with Background propagation; False if that is not served."""
    try:
        # Background, as upstream: nothing emptied here may wait on an orphan finalizer.
        ctx.client.request("DELETE", resource.path(namespace=namespace), body=BACKGROUND)
    except APIStatusError as exc:
        if exc.code == 405 or exc.is_not_found():
            return False
        raise
    return True


def _delete_each(ctx: Context, resource: Resource, namespace: str) -> None:
    for item in ctx.client.list_all(resource, namespace=namespace).items:
        try:
            ctx.client.delete(
                resource, meta(item)["name"], namespace=namespace, propagation_policy="Background"
            )
        except APIStatusError as exc:
            if not (exc.is_not_found() or exc.code == 405):
                raise


CONTROLLER = Controller(
    name="namespace",
    sync=sync,
    watches=(Watch(NAMESPACES, keys=terminating_key),),
    # Upstream's NamespaceSyncPeriod: terminating namespaces are looked at again this often.
    resync_seconds=RESYNC_SECONDS,
)
