"""The Endpoints controller's loop: one v1 Endpoints per selector Service, named like it.

Mirrors ``syncService`` of ``pkg/controller/endpoint/endpoints_controller.go``: read the
Service and its pods from the cache, build the subsets, and write only when they, the labels
or the capacity annotation differ.  Updates carry the cached resourceVersion, so a stale
cache answers 409 and the key is retried.  Endpoints events only matter for Endpoints this
controller manages (upstream reacts to their deletion), so somebody's hand-made Endpoints
are never touched unless their Service is deleted.
"""

from __future__ import annotations

from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.labels import from_labels
from kubeviz.client.rest import ENDPOINTS, PODS, SERVICES, APIStatusError
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Watch, own_key
from kubeviz.controllers.endpoints import helpers
from kubeviz.controllers.endpointslice.controller import pod_keys
from kubeviz.controllers.endpointslice.helpers import TRIGGER_TIME_ANNOTATION, trigger_time
from kubeviz.controllers.objects import meta, spec

Obj = dict[str, Any]


def endpoints_keys(obj: Obj) -> list[str]:
    """Map Endpoints this controller manages to their Service's key."""
    managed = (meta(obj).get("labels") or {}).get(helpers.LABEL_MANAGED_BY) == helpers.CONTROLLER_NAME
    return own_key(obj) if managed else []


def sync(ctx: Context, key: str) -> None:
    """Bring one Service's Endpoints to the pods its selector picks."""
    namespace, name = split_key(key)
    service = ctx.lister(SERVICES).get(namespace, name)
    if service is None:
        try:
            ctx.client.delete(ENDPOINTS, name, namespace=namespace)
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise
        return
    if spec(service).get("type") == "ExternalName" or spec(service).get("selector") is None:
        return  # such Services get their Endpoints from elsewhere (the apiserver, a user) or none
    pods = ctx.lister(PODS).list(namespace, from_labels(spec(service)["selector"]))
    subsets = helpers.repack_subsets(helpers.endpoint_entries(service, pods))
    labels = helpers.endpoints_labels(service)
    current = ctx.lister(ENDPOINTS).get(namespace, name)
    if current is not None and helpers.endpoints_current(current, subsets=subsets, labels=labels):
        return
    annotations = dict(meta(current or {}).get("annotations") or {})
    annotations.pop(helpers.OVER_CAPACITY_ANNOTATION, None)
    stamp = trigger_time(service, pods)
    if stamp:
        annotations[TRIGGER_TIME_ANNOTATION] = stamp
    body: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {**meta(current or {}), "name": name, "namespace": namespace, "labels": labels},
        "subsets": subsets,
    }
    body["metadata"]["annotations"] = annotations
    if not subsets:
        del body["subsets"]  # ``omitempty``, as the API serializes it
    _write(ctx, body, create=current is None)


def _write(ctx: Context, body: Obj, *, create: bool) -> None:
    namespace, name = meta(body)["namespace"], meta(body)["name"]
    try:
        if create:
            ctx.client.create(ENDPOINTS, body, namespace=namespace)
        else:
            ctx.client.update(ENDPOINTS, body, namespace=namespace)
    except APIStatusError as exc:
        if exc.is_conflict() or exc.is_already_exists():
            raise  # the cache is behind our own write; retry once it has caught up
        if create and exc.code == 403:
            return  # the namespace is terminating: creates will keep failing, drop the key
        if create:
            message = f"Failed to create endpoint for service {namespace}/{name}: {exc.message}"
            ctx.events.warning(body, "FailedToCreateEndpoint", message)
        else:
            message = f"Failed to update endpoint {namespace}/{name}: {exc.message}"
            ctx.events.warning(body, "FailedToUpdateEndpoint", message)
        raise


CONTROLLER = Controller(
    name="endpoint",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(SERVICES),
        Watch(PODS, lookup=pod_keys),
        Watch(ENDPOINTS, keys=endpoints_keys),
    ),
)
