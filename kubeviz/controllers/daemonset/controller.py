"""The DaemonSet controller's loop: one pod on every node that should run it.

Mirrors ``syncDaemonSet``, ``manage``, ``syncNodes`` and ``updateDaemonSetStatus`` of
``pkg/controller/daemon/daemon_controller.go`` and ``rollingUpdate``, ``constructHistory`` and
``cleanupHistory`` of ``update.go``.  Pods are created with ``generateName: <ds>-``, the
default daemon tolerations and a required node affinity on ``metadata.name``; the scheduler
binds them.  Creates and deletes go out under expectations, at most 500 per sync.

What is simplified:

* A node event enqueues every DaemonSet (through one fan-out key), without upstream's
  check of whether the change matters to each of them.
* Orphan pods are adopted when their DaemonSet syncs; their own events do not wake it.
* The failed-pod backoff (1 s doubling to 15 min, scaled by the cluster's speed) lives in
  Redis, since syncs run on any worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings

from kubeviz.client.informer import cache_key, split_key
from kubeviz.client.rest import CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS, APIStatusError, PatchType
from kubeviz.client.sharedcache import default_redis
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Observation, Watch, owner_key
from kubeviz.controllers.daemonset import helpers
from kubeviz.controllers.objects import meta, spec, status
from kubeviz.controllers.ownership import claim
from kubeviz.controllers.podcontrol import create_pod, delete_pod, pod_from_template
from kubeviz.controllers.replicaset.helpers import SLOW_START_INITIAL_BATCH_SIZE, slow_start_batch

Obj = dict[str, Any]

BURST_REPLICAS = 500
#: The key a node event queues: its sync enqueues every DaemonSet (no DaemonSet key lacks a '/').
ALL_DAEMONSETS = "*"
FAILED_POD_BACKOFF_INITIAL = 1.0
FAILED_POD_BACKOFF_MAX = 15 * 60.0
DEFAULT_REVISION_HISTORY_LIMIT = 10


def observe_pod(seen: Observation) -> None:
    """Lower the owning DaemonSet's expectations as its pods come and go."""
    keys = owner_key("DaemonSet")(seen.obj)
    if not keys:
        return
    terminating = bool(meta(seen.obj).get("deletionTimestamp"))
    if seen.event == "ADDED":
        if terminating:  # seen for the first time already going: it never counts as created
            seen.expectations.deletion_observed(keys[0])
        else:
            seen.expectations.creation_observed(keys[0])
    elif (
        seen.event == "DELETED"
        or seen.event == "MODIFIED"
        and terminating
        and not (seen.old and meta(seen.old).get("deletionTimestamp"))
    ):
        seen.expectations.deletion_observed(keys[0])


def node_keys(_node: Mapping[str, Any]) -> list[str]:
    """Map a node event to the fan-out key: any node change may concern every DaemonSet."""
    return [ALL_DAEMONSETS]


def sync(ctx: Context, key: str) -> None:
    """Converge one DaemonSet's pods onto the nodes that should run it and report its status."""
    if key == ALL_DAEMONSETS:
        for ds in ctx.lister(DAEMONSETS).list():
            ctx.enqueue(cache_key(ds))
        return
    namespace, name = split_key(key)
    ds = ctx.lister(DAEMONSETS).get(namespace, name)
    if ds is None:
        ctx.expectations.forget(key)
        return
    if spec(ds).get("selector") == {}:
        ctx.events.warning(
            ds,
            helpers.SELECTING_ALL,
            "This daemon set is selecting all pods. A non-empty selector is required.",
        )
        return
    if meta(ds).get("deletionTimestamp"):
        return  # its history may be half gone: neither manage nor report a set being deleted
    nodes = ctx.lister(NODES).list()
    current, old = construct_history(ctx, ds)
    hash_ = meta(current)["labels"][helpers.UNIQUE_LABEL_KEY]
    pods = claim(
        ctx.client,
        PODS,
        owner=ds,
        candidates=ctx.lister(PODS).list(namespace),
        selector=spec(ds).get("selector"),
    )
    if not ctx.expectations.satisfied(key):
        update_status(ctx, ds, key=key, nodes=nodes, pods=pods, hash_=hash_, observed=False)
        return
    try:
        manage(ctx, ds, key=key, nodes=nodes, pods=pods, hash_=hash_)
        strategy = (spec(ds).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if ctx.expectations.satisfied(key) and strategy == "RollingUpdate":
            by_node = helpers.nodes_to_daemon_pods(pods, include_deleted_terminal=False)
            step = helpers.rolling_update(ds, nodes=nodes, nodes_to_pods=by_node, hash_=hash_, now=ctx.now())
            sync_nodes(ctx, ds, key=key, delete=step.delete, create_on=step.create_on, hash_=hash_)
        cleanup_history(ctx, ds, old=old, pods=pods)
    finally:
        update_status(ctx, ds, key=key, nodes=nodes, pods=pods, hash_=hash_, observed=True)


# --- pods ------------------------------------------------------------------------------------


def manage(ctx: Context, ds: Obj, *, key: str, nodes: list[Obj], pods: list[Obj], hash_: str) -> None:
    """Create the pods nodes lack and delete the ones that must go (``manage``)."""
    by_node = helpers.nodes_to_daemon_pods(pods, include_deleted_terminal=False)
    backoff = FailedPodsBackoff(ctx)
    create_on: list[str] = []
    to_delete: list[str] = []
    for node in nodes:
        node_name = meta(node)["name"]
        backoff_key = f"{meta(ds)['uid']}/{status(ds).get('observedGeneration', 0)}/{node_name}"
        plan = helpers.pods_should_be_on_node(
            node,
            ds,
            daemon_pods=by_node.get(node_name),
            hash_=hash_,
            now=ctx.now(),
            in_backoff=backoff.active(backoff_key),
        )
        for pod in plan.failed:
            backoff.step(backoff_key)
            ctx.events.warning(
                ds,
                helpers.FAILED_DAEMON_POD,
                f"Found failed daemon pod {meta(pod)['namespace']}/{meta(pod)['name']} on node {node_name},"
                " will try to kill it",
            )
        for pod in plan.succeeded:
            ctx.events.normal(
                ds,
                helpers.SUCCEEDED_DAEMON_POD,
                f"Found succeeded daemon pod {meta(pod)['namespace']}/{meta(pod)['name']} on node {node_name},"
                " will try to delete it",
            )
        if plan.backing_off:
            ctx.requeue_after(cache_key(ds), backoff.delay(backoff_key))
        if plan.create:
            create_on.append(node_name)
        to_delete.extend(plan.delete)
    to_delete.extend(helpers.unscheduled_pods_without_node((meta(n)["name"] for n in nodes), by_node))
    sync_nodes(ctx, ds, key=key, delete=to_delete, create_on=create_on, hash_=hash_)


def sync_nodes(
    ctx: Context, ds: Obj, *, key: str, delete: list[str], create_on: list[str], hash_: str
) -> None:
    """Create daemon pods on ``create_on`` and delete the named pods, under expectations."""
    creates, deletes = min(len(create_on), BURST_REPLICAS), min(len(delete), BURST_REPLICAS)
    ctx.expectations.expect(key, add=creates, delete=deletes)
    template = helpers.create_pod_template(
        spec(ds).get("template") or {}, generation=helpers.template_generation(ds), hash_=hash_
    )
    targets = iter(create_on[:creates])

    def create_one() -> None:
        pod_spec = dict(template.get("spec") or {})
        pod_spec["affinity"] = helpers.replace_node_name_affinity(pod_spec.get("affinity"), next(targets))
        create_pod(
            ctx.client, ctx.events, owner=ds, pod=pod_from_template({**template, "spec": pod_spec}, owner=ds)
        )

    errors: list[str] = []
    created, error = slow_start_batch(creates, SLOW_START_INITIAL_BATCH_SIZE, create_one)
    if created < creates:
        ctx.expectations.lower(key, add=creates - created)  # failed or skipped: never to be seen
    if error is not None:
        errors.append(error.message if isinstance(error, APIStatusError) else str(error))
    for name in delete[:deletes]:
        pod = {"metadata": {"name": name, "namespace": meta(ds)["namespace"]}}
        try:
            if not delete_pod(ctx.client, ctx.events, owner=ds, pod=pod):
                ctx.expectations.deletion_observed(key)
        except APIStatusError as exc:
            ctx.expectations.deletion_observed(key)
            errors.append(exc.message)
    if errors:
        raise RuntimeError("; ".join(errors))


class FailedPodsBackoff:
    """The per-node failed-pod backoff, shared by every worker through Redis."""

    def __init__(self, ctx: Context) -> None:
        self._redis = default_redis()
        self._hash = f"{settings.KUBEVIZ_REDIS_PREFIX}:dsbackoff:{ctx.cluster}"
        self._initial = ctx.scaled(FAILED_POD_BACKOFF_INITIAL)
        self._max = ctx.scaled(FAILED_POD_BACKOFF_MAX)
        self._now = lambda: ctx.now().timestamp()

    def _get(self, key: str) -> helpers.BackoffEntry | None:
        raw = self._redis.hget(self._hash, key)
        return None if raw is None else helpers.BackoffEntry(*orjson.loads(raw))

    def active(self, key: str) -> bool:
        return helpers.in_backoff(self._get(key), self._now())

    def delay(self, key: str) -> float:
        entry = self._get(key)
        return entry.delay if entry is not None else self._initial

    def step(self, key: str) -> None:
        entry = helpers.next_backoff(self._get(key), self._now(), initial=self._initial, maximum=self._max)
        self._redis.hset(self._hash, key, orjson.dumps([entry.delay, entry.updated]))
        self._redis.expire(self._hash, int(4 * self._max) + 1)


# --- history ---------------------------------------------------------------------------------


def construct_history(ctx: Context, ds: Obj) -> tuple[Obj, list[Obj]]:
    """Return the DaemonSet's current ControllerRevision (creating it if need be) and the old ones."""
    namespace = meta(ds)["namespace"]
    histories = claim(
        ctx.client,
        CONTROLLERREVISIONS,
        owner=ds,
        candidates=ctx.lister(CONTROLLERREVISIONS).list(namespace),
        selector=spec(ds).get("selector"),
    )
    current: list[Obj] = []
    old: list[Obj] = []
    for history in histories:
        if helpers.UNIQUE_LABEL_KEY not in (meta(history).get("labels") or {}):
            # Older histories lack the label; their name is as unique as a hash.
            labels = {**(meta(history).get("labels") or {}), helpers.UNIQUE_LABEL_KEY: meta(history)["name"]}
            history = ctx.client.update(
                CONTROLLERREVISIONS, {**history, "metadata": {**meta(history), "labels": labels}}
            )
        (current if helpers.revision_matches(ds, history) else old).append(history)
    next_revision = helpers.max_revision(old) + 1
    if not current:
        return snapshot(ctx, ds, revision=next_revision), old
    cur = dedup_current(ctx, ds, current=current)
    if int(cur.get("revision") or 0) < next_revision:
        cur = ctx.client.update(CONTROLLERREVISIONS, {**cur, "revision": next_revision})
    return cur, old


def snapshot(ctx: Context, ds: Obj, *, revision: int) -> Obj:
    """Create the ControllerRevision of the current template; bump collisionCount on a clash."""
    body = helpers.new_revision(ds, revision=revision, hash_=helpers.template_hash(ds))
    namespace, name = meta(ds)["namespace"], meta(body)["name"]
    try:
        return ctx.client.create(CONTROLLERREVISIONS, body, namespace=namespace)
    except APIStatusError as exc:
        if not exc.is_already_exists():
            raise
    existing = ctx.client.get(CONTROLLERREVISIONS, name, namespace=namespace)
    if helpers.revision_matches(ds, existing):
        return existing
    fresh = ctx.client.get(DAEMONSETS, meta(ds)["name"], namespace=namespace)
    seen = status(ds).get("collisionCount")
    if status(fresh).get("collisionCount") != seen:
        raise RuntimeError(f"found a stale collision count of DaemonSet {meta(ds)['name']}; will retry")
    ctx.client.update_status(
        DAEMONSETS, {**fresh, "status": {**status(fresh), "collisionCount": (seen or 0) + 1}}
    )
    raise RuntimeError(f"found a hash collision for DaemonSet {meta(ds)['name']}: bumped collisionCount")


def dedup_current(ctx: Context, ds: Obj, *, current: list[Obj]) -> Obj:
    """Keep the newest of several revisions holding the same template; relabel pods to it."""
    if len(current) == 1:
        return current[0]
    keep = max(current, key=lambda r: int(r.get("revision") or 0))
    keep_hash = meta(keep)["labels"][helpers.UNIQUE_LABEL_KEY]
    namespace = meta(ds)["namespace"]
    pods = claim(
        ctx.client,
        PODS,
        owner=ds,
        candidates=ctx.lister(PODS).list(namespace),
        selector=spec(ds).get("selector"),
    )
    for pod in pods:
        if (meta(pod).get("labels") or {}).get(helpers.UNIQUE_LABEL_KEY) != keep_hash:
            ctx.client.patch(
                PODS,
                meta(pod)["name"],
                {"metadata": {"labels": {helpers.UNIQUE_LABEL_KEY: keep_hash}}},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )
    for history in current:
        if meta(history)["name"] != meta(keep)["name"]:
            _delete_revision(ctx, history)
    return keep


def cleanup_history(ctx: Context, ds: Obj, *, old: list[Obj], pods: list[Obj]) -> None:
    """Delete old revisions past ``revisionHistoryLimit`` that no pod still runs."""
    limit = spec(ds).get("revisionHistoryLimit")
    limit = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit)
    if len(old) <= limit:
        return
    live = {(meta(p).get("labels") or {}).get(helpers.UNIQUE_LABEL_KEY) for p in pods} - {None}
    for history in helpers.histories_to_delete(old, limit=limit, live_hashes={str(h) for h in live}):
        _delete_revision(ctx, history)


def _delete_revision(ctx: Context, history: Obj) -> None:
    try:
        ctx.client.delete(CONTROLLERREVISIONS, meta(history)["name"], namespace=meta(history)["namespace"])
    except APIStatusError as exc:
        if not exc.is_not_found():
            raise


# --- status ----------------------------------------------------------------------------------


def update_status(
    ctx: Context, ds: Obj, *, key: str, nodes: list[Obj], pods: list[Obj], hash_: str, observed: bool
) -> None:
    """Write the DaemonSet's counts when they changed; ``observed`` also raises observedGeneration."""
    by_node = helpers.nodes_to_daemon_pods(pods, include_deleted_terminal=False)
    counts = helpers.calculate_status(ds, nodes=nodes, nodes_to_pods=by_node, hash_=hash_, now=ctx.now())
    generation = int(meta(ds).get("generation") or 0) if observed else None
    new_status = helpers.status_with(status(ds), counts, observed_generation=generation)
    if new_status != status(ds):
        try:
            ctx.client.update_status(DAEMONSETS, {**ds, "status": new_status})
        except APIStatusError as exc:
            if exc.is_conflict():  # a newer version is on its way through the watch
                ctx.enqueue(key)
            elif not exc.is_not_found():
                raise
    min_ready = int(spec(ds).get("minReadySeconds") or 0)
    if min_ready > 0 and counts["numberReady"] != counts["numberAvailable"]:
        ctx.requeue_after(key, float(min_ready))


CONTROLLER = Controller(
    name="daemonset",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(DAEMONSETS),
        Watch(PODS, keys=owner_key("DaemonSet"), observe=observe_pod),
        Watch(NODES, keys=node_keys),
        Watch(CONTROLLERREVISIONS, keys=owner_key("DaemonSet")),
    ),
)
