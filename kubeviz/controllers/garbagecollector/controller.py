"""The garbage collector's loop: owners and dependents, with Background, Foreground and Orphan.

Mirrors ``GarbageCollector`` of ``pkg/controller/garbagecollector/garbagecollector.go``
(``attemptToDeleteItem``, ``processDeletingDependentsItem``, ``attemptToOrphanWorker``,
``isDangling``, ``removeFinalizer``) over the graph ``graph_builder.go`` keeps.  Here the graph
is the shared cache's owner index (``ctx.cache.dependents``, ``ref_of``), and one ``sync``
looks at one object, given by a key that also names its resource and uid
(``helpers.Target``):

* an object that is no longer cached is an owner that went away: its cached dependents are
  queued, and each decides for itself;
* an object being deleted with the ``orphan`` finalizer has the references to it patched off
  its dependents, then loses the finalizer;
* one being deleted with the ``foregroundDeletion`` finalizer has its blocking dependents
  deleted, and loses the finalizer once none is left;
* any other object with owners is a dependent: if none of its owners remains, it is deleted;
  if some remain, the references to missing owners are patched away.

The cache may lag the apiserver, so before acting on a dependent the collector reads it and
every owner the cache does not hold through the API, as upstream's ``isDangling`` does.

What is simplified: only built-in resources are collected; an owner reference to a kind the
table does not know is treated as a live owner instead of being retried (upstream waits for
discovery to learn it), and there is no absent-owner cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubeviz.client.rest import (
    CONFIGMAPS,
    CONTROLLERREVISIONS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTSLICES,
    JOBS,
    NAMESPACES,
    PODS,
    REPLICASETS,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    STATEFULSETS,
    APIStatusError,
    PatchType,
    Preconditions,
    Resource,
)
from kubeviz.client.sharedcache import Ref, resource_by_key
from kubeviz.controllers.base import Context, Controller, Obj, Watch
from kubeviz.controllers.garbagecollector import helpers
from kubeviz.controllers.garbagecollector.helpers import OwnerState, Target
from kubeviz.controllers.objects import meta

log = logging.getLogger(__name__)

#: Every resource whose objects may own others or be owned (Events own nothing and are left out).
WATCHED: tuple[Resource, ...] = (
    PODS,
    REPLICASETS,
    DEPLOYMENTS,
    DAEMONSETS,
    STATEFULSETS,
    CONTROLLERREVISIONS,
    JOBS,
    CRONJOBS,
    ENDPOINTSLICES,
    SERVICES,
    CONFIGMAPS,
    SECRETS,
    SERVICEACCOUNTS,
    NAMESPACES,
)
#: Upstream's ``retry.DefaultBackoff.Steps`` for removing a finalizer.
UPDATE_MAX_RETRIES = 5


def sync(ctx: Context, key: str) -> None:
    """Look at one object as an owner and as a dependent, and converge."""
    target = Target.decode(key)
    obj = ctx.cache.fetch(Ref(target.resource, target.namespace, target.name))
    if obj is None or meta(obj).get("uid") != target.uid:
        _owner_gone(ctx, target.uid)
        return
    resource = resource_by_key(target.resource)
    if helpers.orphaning_dependents(obj):
        _orphan_dependents(ctx, resource, obj)
    elif helpers.deleting_dependents(obj):
        _process_deleting_dependents(ctx, resource, obj)
    elif not helpers.being_deleted(obj):
        # Being deleted otherwise is a one-way trip; its dependents are looked at once it is gone.
        _attempt_to_delete(ctx, resource, obj)


def _enqueue_dependents(ctx: Context, uid: str, *, only: set[str] | None = None) -> None:
    """Queue the cached dependents of ``uid`` (only those with these uids, if given)."""
    for ref in ctx.cache.dependents(uid):
        dep = ctx.cache.fetch(ref)
        if dep is None or (only is not None and meta(dep).get("uid") not in only):
            continue
        ctx.enqueue(Target(ref.resource, ref.namespace, ref.name, meta(dep).get("uid") or "").encode())


def _owner_gone(ctx: Context, uid: str) -> None:
    """Queue the dependents of an owner that is no longer cached (upstream's virtual delete)."""
    _enqueue_dependents(ctx, uid)


def _dependents(ctx: Context, uid: str) -> list[Obj]:
    found = (ctx.cache.fetch(ref) for ref in ctx.cache.dependents(uid))
    return [d for d in found if d is not None]


# --- dependents -----------------------------------------------------------------------------


def _attempt_to_delete(ctx: Context, resource: Resource, item: Obj) -> None:
    """Delete a dependent none of whose owners remains, or drop its references to missing ones."""
    if not meta(item).get("ownerReferences") or _invalid_cluster_scoped(ctx, resource, item):
        return
    cached = [_cached_state(ctx, item, ref) for ref in meta(item)["ownerReferences"]]
    if all(state is OwnerState.SOLID for state in cached):
        return
    latest = _get(ctx, resource, item)
    if latest is None or not meta(latest).get("ownerReferences"):
        return
    states = {
        ref.get("uid", ""): _cached_state(ctx, latest, ref, report=True) or _live_state(ctx, latest, ref)
        for ref in meta(latest)["ownerReferences"]
    }
    dependents = _dependents(ctx, meta(latest)["uid"])
    action = helpers.decide(
        states,
        item=latest,
        has_dependents=bool(dependents),
        dependent_deleting_dependents=any(helpers.deleting_dependents(d) for d in dependents),
    )
    name, namespace = meta(latest)["name"], meta(latest).get("namespace")
    if action.verb == "patch":
        log.info(
            "remove dangling references %s and waiting references for %s %s", action.drop, resource, name
        )
        patch = helpers.delete_owner_refs_patch(meta(latest)["uid"], action.drop)
        _tolerate_gone(
            lambda: ctx.client.patch(
                resource, name, patch, namespace=namespace, patch_type=PatchType.STRATEGIC
            )
        )
    elif action.verb == "delete":
        if action.unblock:
            unblock = helpers.unblock_owner_refs_patch(latest)
            if unblock is not None:
                _tolerate_gone(
                    lambda: ctx.client.patch(
                        resource, name, unblock, namespace=namespace, patch_type=PatchType.STRATEGIC
                    )
                )
        log.info(
            "Deleting %s %s/%s with propagationPolicy %s", resource, namespace or "", name, action.policy
        )
        _tolerate_gone(
            lambda: ctx.client.delete(
                resource,
                name,
                namespace=namespace,
                propagation_policy=action.policy,
                preconditions=Preconditions(uid=meta(latest)["uid"]),
            )
        )


def _cached_state(ctx: Context, item: Obj, ref: Obj, *, report: bool = False) -> OwnerState | None:
    """Classify an owner from the cache; None when the cache cannot say it exists."""
    found = ctx.cache.ref_of(ref.get("uid", ""))
    if found is None:
        return None
    namespace = meta(item).get("namespace") or ""
    if resource_by_key(found.resource).namespaced and found.namespace != namespace:
        # A namespaced owner is only ever looked for in its dependent's namespace.
        if report:
            message = helpers.invalid_namespace_message(ref, namespace=namespace)
            ctx.events.warning(item, "OwnerRefInvalidNamespace", message)
        return None
    owner = ctx.cache.fetch(found)
    return None if owner is None else helpers.owner_state(owner, ref["uid"])


def _live_state(ctx: Context, item: Obj, ref: Obj) -> OwnerState:
    """Classify an owner the cache does not hold by reading it (upstream's ``isDangling``)."""
    resource = helpers.resource_of_reference(ref)
    if resource is None:
        log.warning(
            "cannot resolve owner %s/%s of %s; leaving it alone",
            ref.get("apiVersion"),
            ref.get("kind"),
            meta(item).get("name"),
        )
        return OwnerState.SOLID
    namespace = meta(item).get("namespace") if resource.namespaced else None
    try:
        owner = ctx.client.get(resource, ref["name"], namespace=namespace)
    except APIStatusError as exc:
        if exc.is_not_found():
            return OwnerState.DANGLING
        raise
    return helpers.owner_state(owner, ref["uid"])


def _invalid_cluster_scoped(ctx: Context, resource: Resource, item: Obj) -> bool:
    """Report a cluster-scoped object naming a namespaced owner; such an item is never collected."""
    if resource.namespaced:
        return False
    for ref in meta(item).get("ownerReferences") or []:
        owner = helpers.resource_of_reference(ref)
        if owner is not None and owner.namespaced:
            involved = {"apiVersion": resource.api_version, "kind": resource.kind, **item}
            message = helpers.invalid_namespace_message(ref, namespace="")
            ctx.events.warning(involved, "OwnerRefInvalidNamespace", message)
            return True
    return False


# --- owners being deleted -------------------------------------------------------------------


def _process_deleting_dependents(ctx: Context, resource: Resource, owner: Obj) -> None:
    """Delete a foreground-deleting owner's blocking dependents; release it once none is left."""
    uid = meta(owner)["uid"]
    blocking = helpers.blocking_dependents(uid, _dependents(ctx, uid))
    if not blocking:
        log.info("remove DeleteDependents finalizer for %s %s", resource, meta(owner)["name"])
        _remove_finalizer(ctx, resource, owner, helpers.FOREGROUND_FINALIZER)
        return
    waiting = {meta(d)["uid"] for d in blocking if not helpers.deleting_dependents(d)}
    _enqueue_dependents(ctx, uid, only=waiting)


def _orphan_dependents(ctx: Context, resource: Resource, owner: Obj) -> None:
    """Patch the references to an orphaning owner off its dependents, then release it."""
    uid = meta(owner)["uid"]
    errors: list[str] = []
    for ref in ctx.cache.dependents(uid):
        dep = ctx.cache.fetch(ref)
        if dep is None or helpers.reference_to(dep, uid) is None:
            continue
        patch = helpers.delete_owner_refs_patch(meta(dep)["uid"], [uid])
        try:
            _tolerate_gone(
                lambda r=ref, p=patch: ctx.client.patch(
                    resource_by_key(r.resource),
                    r.name,
                    p,
                    namespace=r.namespace or None,
                    patch_type=PatchType.STRATEGIC,
                )
            )
        except APIStatusError as exc:
            errors.append(f"orphaning {ref.encode()} failed, {exc.message}")
    if errors:
        raise RuntimeError(
            f"failed to orphan dependents of owner {meta(owner)['name']}, got errors: {'; '.join(errors)}"
        )
    _remove_finalizer(ctx, resource, owner, helpers.ORPHAN_FINALIZER)


def _remove_finalizer(ctx: Context, resource: Resource, obj: Obj, finalizer: str) -> None:
    """Remove one finalizer, guarded by the resourceVersion; re-read and retry on conflict."""
    name, namespace, uid = meta(obj)["name"], meta(obj).get("namespace"), meta(obj)["uid"]
    current: Obj | None = obj
    for _ in range(UPDATE_MAX_RETRIES):
        if current is None or meta(current).get("uid") != uid:
            return
        remaining = helpers.without_finalizer(current, finalizer)
        if remaining is None:
            return
        patch = {"metadata": {"finalizers": remaining, "resourceVersion": meta(current)["resourceVersion"]}}
        try:
            ctx.client.patch(resource, name, patch, namespace=namespace, patch_type=PatchType.MERGE)
            return
        except APIStatusError as exc:
            if exc.is_not_found():
                return
            if not exc.is_conflict():
                raise
        current = _get(ctx, resource, obj)
    raise RuntimeError(
        f"updateMaxRetries({UPDATE_MAX_RETRIES}) has reached. The garbage collector will retry later "
        f"for owner {resource}/{name}."
    )


# --- plumbing -------------------------------------------------------------------------------


def _get(ctx: Context, resource: Resource, obj: Obj) -> Obj | None:
    """Read an object's latest state; None if it is gone or was replaced by a namesake."""
    try:
        latest = ctx.client.get(resource, meta(obj)["name"], namespace=meta(obj).get("namespace"))
    except APIStatusError as exc:
        if exc.is_not_found():
            return None
        raise
    return latest if meta(latest).get("uid") == meta(obj).get("uid") else None


def _tolerate_gone(write: Callable[[], object]) -> None:
    """Run a write; an object that is gone or was replaced (uid precondition) needs nothing more."""
    try:
        write()
    except APIStatusError as exc:
        if not (exc.is_not_found() or exc.is_conflict()):
            raise


def _watch(resource: Resource) -> Watch:
    return Watch(resource, keys=lambda obj: helpers.keys_for(resource, obj))


CONTROLLER = Controller(
    # kube-controller-manager's name for it (its --controllers alias is "garbagecollector").
    name="garbage-collector",
    sync=sync,
    watches=tuple(_watch(r) for r in WATCHED),
)
