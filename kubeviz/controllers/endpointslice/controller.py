"""The EndpointSlice controller's loop: each selector Service's ready and not-ready pods, in slices.

Mirrors ``syncService`` of ``pkg/controller/endpointslice/endpointslice_controller.go`` and
``Reconcile``/``finalize`` of ``staging/src/k8s.io/endpointslice/reconciler.go``.  Slices are
created with ``generateName`` under expectations (the cache lags our own creates, as
upstream's ``EndpointSliceTracker`` knows), updated in place with their resourceVersion (a
stale cache answers 409 and the key is retried), and deleted when no longer needed.

The slices of a deleted Service are left to the garbage collector, as upstream leaves them.
"""

from __future__ import annotations

from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.labels import from_labels
from kubeviz.client.rest import ENDPOINTSLICES, NODES, PODS, SERVICES, APIStatusError
from kubeviz.client.sharedcache import SharedCache
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Observation, Watch, owner_key
from kubeviz.controllers.endpointslice import helpers
from kubeviz.controllers.objects import meta, spec

Obj = dict[str, Any]


def pod_keys(cache: SharedCache, pod: Obj) -> list[str]:
    """Map a pod to every Service in its namespace whose selector matches its labels."""
    return helpers.pod_services(cache.lister(SERVICES).list(meta(pod).get("namespace") or ""), pod)


def observe_slice(seen: Observation) -> None:
    """Lower the owning Service's expectations as its slices appear and disappear."""
    keys = owner_key("Service")(seen.obj)
    if not keys:
        return
    if seen.event == "ADDED":
        seen.expectations.creation_observed(keys[0])
    elif seen.event == "DELETED":
        seen.expectations.deletion_observed(keys[0])


def _managed_slices(ctx: Context, namespace: str, name: str) -> list[Obj]:
    selector = from_labels(
        {helpers.SERVICE_NAME_LABEL: name, helpers.MANAGED_BY_LABEL: helpers.CONTROLLER_NAME}
    )
    return ctx.lister(ENDPOINTSLICES).list(namespace, selector)


def sync(ctx: Context, key: str) -> None:
    """Bring one Service's EndpointSlices to the pods its selector picks."""
    namespace, name = split_key(key)
    service = ctx.lister(SERVICES).get(namespace, name)
    if service is None:
        ctx.expectations.forget(key)
        return  # its slices go with it: the garbage collector follows their ownerReference
    if spec(service).get("type") == "ExternalName" or spec(service).get("selector") is None:
        return  # such Services get their endpoints from elsewhere (or none at all)
    if not ctx.expectations.satisfied(key):
        return  # our own creates and deletes have not come back through the watch yet
    pods = ctx.lister(PODS).list(namespace, from_labels(spec(service)["selector"]))
    zones = {
        meta(n)["name"]: (meta(n).get("labels") or {})[helpers.ZONE_LABEL]
        for n in ctx.lister(NODES).list()
        if (meta(n).get("labels") or {}).get(helpers.ZONE_LABEL)
    }
    groups = helpers.desired_groups(service, pods, zones=zones)
    plan = helpers.plan_slices(service, groups=groups, existing=_managed_slices(ctx, namespace, name))
    if plan.empty():
        return
    stamp = helpers.trigger_time(service, pods)
    try:
        _apply(ctx, key, service=service, plan=plan, stamp=stamp)
    except APIStatusError as exc:
        if not exc.is_conflict():
            ctx.events.warning(
                service,
                "FailedToUpdateEndpointSlices",
                f"Error updating Endpoint Slices for Service {key}: {exc.message}",
            )
        raise


def _stamped(obj: Obj, stamp: str | None) -> Obj:
    annotations = dict(meta(obj).get("annotations") or {})
    if stamp:
        annotations[helpers.TRIGGER_TIME_ANNOTATION] = stamp
    else:
        annotations.pop(helpers.TRIGGER_TIME_ANNOTATION, None)
    return {**obj, "metadata": {**meta(obj), "annotations": annotations}}


def _apply(ctx: Context, key: str, *, service: Obj, plan: helpers.SlicePlan, stamp: str | None) -> None:
    """Write the plan as upstream's ``finalize`` does: creates, then updates, then deletes."""
    creates = [] if meta(service).get("deletionTimestamp") else plan.create
    adds, dels = len(creates), len(plan.delete)
    if adds or dels:
        ctx.expectations.expect(key, add=adds, delete=dels)
    try:
        for body in creates:
            ctx.client.create(ENDPOINTSLICES, _stamped(body, stamp), namespace=meta(service)["namespace"])
            adds -= 1
        for body in plan.update:
            try:
                ctx.client.update(ENDPOINTSLICES, _stamped(body, stamp))
            except APIStatusError as exc:
                if not exc.is_not_found():
                    raise
        for doomed in plan.delete:
            if not _delete(ctx, doomed):
                ctx.expectations.deletion_observed(key)
            dels -= 1
    finally:
        if adds or dels:  # writes that failed or never ran will never be seen
            ctx.expectations.lower(key, add=adds, delete=dels)


def _delete(ctx: Context, endpoint_slice: Obj) -> bool:
    """Delete a slice; return False if it was already gone."""
    try:
        ctx.client.delete(
            ENDPOINTSLICES, meta(endpoint_slice)["name"], namespace=meta(endpoint_slice)["namespace"]
        )
    except APIStatusError as exc:
        if exc.is_not_found():
            return False
        raise
    return True


CONTROLLER = Controller(
    name="endpointslice",
    resync_seconds=RESYNC_SECONDS,
    event_source="endpoint-slice-controller",
    sync=sync,
    watches=(
        Watch(SERVICES),
        Watch(PODS, lookup=pod_keys),
        Watch(ENDPOINTSLICES, keys=owner_key("Service"), observe=observe_slice),
    ),
    reads=(NODES,),
)
