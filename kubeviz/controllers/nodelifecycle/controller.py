"""The node lifecycle controller's loop: notice silent kubelets, mark their nodes, taint them.

Mirrors ``monitorNodeHealth``/``tryUpdateNodeHealth``, ``doNoScheduleTaintingPass`` and
``processTaintBaseEviction`` of ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
and ``MarkPodsNotReady`` of ``pkg/controller/util/node``.  The key is a node.  A node whose
kubelet has not renewed its Lease in ``kube-node-lease`` (nor posted a Ready heartbeat) for
the node-monitor grace period gets its conditions set to Unknown, the ``unreachable``
NoSchedule and NoExecute taints, a ``NodeNotReady`` event, and its pods Ready=False.  When
the kubelet posts Ready=True again, the taints go.  Evicting the pods is the
``taint-eviction`` controller's job, as upstream.

What is simplified: upstream times heartbeats by when it *saw* them change; here the Lease's
``renewTime`` is compared with the clock (one simulated clock has no skew).  Upstream looks
at every node every 5 s; here each node is looked at again when its grace period would run
out, and whenever it, its Lease or one of its pods changes.  Tainting is not rate-limited per
zone, and there is no zone disruption mode.  All durations are divided by the cluster speed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kubeviz.client.rest import LEASES, NODES, PODS, APIStatusError
from kubeviz.controllers.base import Context, Controller, Watch
from kubeviz.controllers.nodelifecycle import helpers
from kubeviz.controllers.objects import meta, spec, status
from kubeviz.controllers.timestamps import parse_time

Obj = dict[str, Any]

LEASE_NAMESPACE = "kube-node-lease"


def lease_keys(lease: Obj) -> list[str]:
    """Map a node Lease to its node's key (the Lease is named after the node)."""
    return [meta(lease)["name"]] if meta(lease).get("namespace") == LEASE_NAMESPACE else []


def pod_node_keys(pod: Obj) -> list[str]:
    """Map a pod to the node it is bound to."""
    node = spec(pod).get("nodeName")
    return [node] if node else []


def sync(ctx: Context, key: str) -> None:
    """Check one node's heartbeat, then bring its conditions, taints and pods in line."""
    node = ctx.lister(NODES).get(None, key)
    if node is None:
        return
    now = ctx.now()
    observed = helpers.ready_status(node)
    node = _monitor_health(ctx, node, now=now)
    current = helpers.ready_status(node)
    node = _swap_taints(ctx, node, now=now)
    if current == "True":
        return
    if observed == "True":  # we made the transition: say so once, as upstream does
        ctx.events.normal(node, "NodeNotReady", f"Node {key} status is now: NodeNotReady")
    _mark_pods_not_ready(ctx, key, now=now)


def _grace(ctx: Context, node: Obj) -> timedelta:
    if helpers.node_condition(node, "Ready") is None:
        return timedelta(seconds=ctx.scaled(helpers.NODE_STARTUP_GRACE_PERIOD.total_seconds()))
    return timedelta(seconds=ctx.scaled(helpers.NODE_MONITOR_GRACE_PERIOD.total_seconds()))


def _monitor_health(ctx: Context, node: Obj, *, now: datetime) -> Obj:
    """Turn the node's conditions Unknown once its heartbeat is older than the grace period."""
    name = meta(node)["name"]
    lease = ctx.lister(LEASES).get(LEASE_NAMESPACE, name)
    heartbeat = helpers.last_heartbeat(node, lease) or parse_time(meta(node).get("creationTimestamp")) or now
    deadline = heartbeat + _grace(ctx, node)
    if now <= deadline:
        # Look again just after the grace period would run out (a renewal brings it forward).
        ctx.requeue_after(name, (deadline - now).total_seconds() + ctx.scaled(1.0))
        return node
    conditions = helpers.unknown_conditions(node, now)
    if conditions == (status(node).get("conditions") or []):
        return node
    return ctx.client.update_status(NODES, {**node, "status": {**status(node), "conditions": conditions}})


def _swap_taints(ctx: Context, node: Obj, *, now: datetime) -> Obj:
    """Write the taints the node's conditions call for, if they differ from what it has."""
    taints = list(spec(node).get("taints") or [])
    wanted = helpers.reconcile_taints(taints, helpers.wanted_taints(node), now=now)
    if wanted == taints:
        return node
    body = {**node, "spec": {**spec(node), "taints": wanted}}
    if not wanted:
        del body["spec"]["taints"]
    return ctx.client.update(NODES, body)


def _mark_pods_not_ready(ctx: Context, node_name: str, *, now: datetime) -> None:
    """Set Ready=False on every pod of the node that still claims to be ready."""
    failed: APIStatusError | None = None
    for pod in ctx.lister(PODS).list():
        if spec(pod).get("nodeName") != node_name:
            continue
        new_status = helpers.not_ready_status(pod, now)
        if new_status is None:
            continue
        try:
            updated = ctx.client.update_status(PODS, {**pod, "status": new_status})
        except APIStatusError as exc:
            if not exc.is_not_found():
                failed = failed or exc
            continue
        ctx.events.warning(updated, "NodeNotReady", "Node is not ready")
    if failed is not None:
        raise failed


CONTROLLER = Controller(
    name="nodelifecycle",
    event_source="node-controller",
    sync=sync,
    watches=(
        Watch(NODES),
        Watch(LEASES, keys=lease_keys),
        Watch(PODS, keys=pod_node_keys),
    ),
)
