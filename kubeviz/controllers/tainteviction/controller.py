"""The taint eviction controller's loop: evict pods that may no longer stay on a tainted node.

Mirrors ``handleNodeUpdate``/``processPodOnNode`` and ``addConditionAndDeletePod`` of
``pkg/controller/tainteviction/taint_eviction.go``.  The key is a node.  Each pod bound to it
that does not tolerate one of its NoExecute taints is deleted at once; one whose tolerations
allow ``tolerationSeconds`` is deleted when that time (divided by the cluster speed) has
passed, and the node is looked at again then.  Before the delete, the pod gets the
``DisruptionTarget`` condition and a ``TaintManagerEviction`` event, as upstream.

What is simplified: there is no timed work queue in memory, so the countdown is derived from
the taints' ``timeAdded`` (see ``helpers.eviction_start``), and no "Cancelling deletion"
event is recorded when a taint goes away before its deadline (nothing was scheduled to cancel).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kubeviz.client.rest import NODES, PODS, APIStatusError
from kubeviz.controllers.base import Context, Controller, Watch
from kubeviz.controllers.objects import meta, spec
from kubeviz.controllers.tainteviction import helpers

Obj = dict[str, Any]


def pod_node_keys(pod: Obj) -> list[str]:
    """Map a pod to the node it is bound to."""
    node = spec(pod).get("nodeName")
    return [node] if node else []


def sync(ctx: Context, key: str) -> None:
    """Evict the pods of one node whose tolerations have run out; come back for the next one."""
    node = ctx.lister(NODES).get(None, key)
    taints = helpers.no_execute_taints(node) if node is not None else []
    if not taints:
        return
    now = ctx.now()
    soonest: datetime | None = None
    for pod in ctx.lister(PODS).list():
        if spec(pod).get("nodeName") != key or meta(pod).get("deletionTimestamp"):
            continue
        delay = helpers.eviction_delay(pod, taints)
        if delay is None:
            continue
        start = helpers.eviction_start(pod, taints) or now
        due = start + timedelta(seconds=ctx.scaled(delay))
        if delay > 0 and due > now:
            soonest = due if soonest is None else min(soonest, due)
            continue
        _evict(ctx, pod, now=now)
    if soonest is not None:
        ctx.requeue_after(key, (soonest - now).total_seconds())


def _evict(ctx: Context, pod: Obj, *, now: datetime) -> None:
    """Mark the pod as a disruption target, then delete it (``addConditionAndDeletePod``)."""
    namespace, name = meta(pod)["namespace"], meta(pod)["name"]
    ctx.events.normal(pod, "TaintManagerEviction", f"Marking for deletion Pod {namespace}/{name}")
    try:
        status = helpers.with_disruption_condition(pod, now)
        if status is not None:
            ctx.client.update_status(PODS, {**pod, "status": status})
        ctx.client.delete(PODS, name, namespace=namespace)
    except APIStatusError as exc:
        if not exc.is_not_found():
            raise


CONTROLLER = Controller(
    name="taint-eviction",
    sync=sync,
    watches=(
        Watch(NODES),
        Watch(PODS, keys=pod_node_keys),
    ),
)
