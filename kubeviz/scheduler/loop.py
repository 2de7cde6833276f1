"""kube-scheduler's loop: pending pods in, bindings out.

Mirrors ``pkg/scheduler/eventhandlers.go`` (what goes on the queue and which cluster events
wake parked pods) and ``schedule_one.go`` (pop a pod, run the framework, assume, bind, record
the event).  As with the controllers, the two halves run in different processes:

* ``SchedulerInformers`` runs in the control-plane process: the scheduler's own watches on
  pods and nodes fill its shared cache and drive the scheduling queue (``queue.py``), and
  every change that may let a pod be scheduled wakes the cluster's one scheduling key;
* ``schedule(qkey)`` is the Celery reconcile of that key.  The work queue guarantees one
  scheduling task per cluster at a time, as upstream has one ``scheduleOne`` loop.  A task
  builds the node snapshot once, then pops and schedules pods for up to ``BATCH_SECONDS``
  and wakes itself again if more are waiting.

The assume cache: after binding, a pod is recorded as assumed on its node until the scheduler's
watch shows it bound, so the next task counts its resources even if the cache lags.  An
assumption older than ``ASSUMED_TTL`` was left by a task that died before its binding landed,
and is dropped so the pod is scheduled again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from kubeviz.client.clusterinfo import client_for, cluster_info
from kubeviz.client.events import EventRecorder
from kubeviz.client.factory import InformerFactory
from kubeviz.client.informer import Obj, cache_key
from kubeviz.client.rest import NODES, PODS, APIStatusError, Client, ClientError, PatchType
from kubeviz.client.sharedcache import CacheWriter, SharedCache, default_redis
from kubeviz.client.workqueue import WorkQueue
from kubeviz.scheduler import results
from kubeviz.scheduler.framework.runner import Result, fit_error_message, schedule_one
from kubeviz.scheduler.framework.types import NodeInfo, build_node_infos
from kubeviz.scheduler.plugins.registry import DEFAULT_REGISTRY
from kubeviz.scheduler.queue import SchedulingQueue

log = logging.getLogger(__name__)

COMPONENT = "kube-scheduler"
#: Upstream's ``ErrNoNodesAvailable``: the FailedScheduling message of a cluster without nodes.
NO_NODES = "no nodes available to schedule pods"
SCHEDULER_NAME = "default-scheduler"
QUEUE_NAME = f"{COMPONENT}:schedule"
SCHEDULE_KEY = "schedule"
BATCH_SECONDS = 2.0
POP_SIZE = 16
ASSUMED_TTL = 30.0
RESYNC_SECONDS = 30.0
#: Bindings in flight at once while the next cycles run.
BIND_WORKERS = 8
MAX_BINDS_IN_FLIGHT = 4 * BIND_WORKERS


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def is_pending(pod: Mapping[str, Any]) -> bool:
    """Tell whether a pod is this scheduler's to place: unbound, alive and not finished."""
    return (
        not _spec(pod).get("nodeName")
        and (_spec(pod).get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
        and not _meta(pod).get("deletionTimestamp")
        and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )


def _scheduling_relevant(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    return (pod.get("spec"), _meta(pod).get("labels"))


def _node_relevant(node: Mapping[str, Any]) -> tuple[Any, ...]:
    status = node.get("status") or {}
    return (node.get("spec"), _meta(node).get("labels"), status.get("allocatable"), status.get("conditions"))


def _assumed_key(cluster: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:assumed"


def wake_queue() -> WorkQueue:
    """Return the work queue of scheduling keys, routed to the scheduler's own Celery queue."""
    return WorkQueue(QUEUE_NAME, celery_queue=settings.KUBEVIZ_SCHEDULER_QUEUE)


class SchedulerInformers:
    """The scheduler's watches in one cluster, feeding its cache and its scheduling queue."""

    def __init__(self, *, cluster: str, client: Client) -> None:
        self.cluster = cluster
        info = cluster_info(cluster)
        self.queue = SchedulingQueue(cluster, speed=info.speed if info else 1.0)
        self.wake = wake_queue()
        self.redis = default_redis()
        self.factory = InformerFactory(client, CacheWriter(cluster=cluster, component=COMPONENT))
        self.factory.add_handlers(
            PODS, on_add=self.pod_added, on_update=self.pod_updated, on_delete=self.pod_deleted
        )
        self.factory.add_handlers(NODES, on_add=self.node_added, on_update=self.node_updated)

    def _wake(self) -> None:
        self.wake.add(f"{self.cluster}|{SCHEDULE_KEY}")

    def _priority(self, pod: Obj) -> int:
        return int(_spec(pod).get("priority") or 0)

    def pod_added(self, pod: Obj) -> None:
        if is_pending(pod):
            self.queue.add(cache_key(pod), priority=self._priority(pod))
            self._wake()

    def pod_updated(self, old: Obj, new: Obj) -> None:
        key = cache_key(new)
        if is_pending(new):
            if old is not new and _scheduling_relevant(old) != _scheduling_relevant(new):
                self.queue.activate(key)
            if self.queue.add(key, priority=self._priority(new)) or old is not new:
                self._wake()
            return
        self.queue.delete(key)
        if _spec(new).get("nodeName"):
            self.redis.hdel(_assumed_key(self.cluster), key)

    def pod_deleted(self, pod: Obj) -> None:
        key = cache_key(pod)
        self.queue.delete(key)
        self.redis.hdel(_assumed_key(self.cluster), key)
        if _spec(pod).get("nodeName"):
            self._moved()

    def node_added(self, node: Obj) -> None:
        self._moved()

    def node_updated(self, old: Obj, new: Obj) -> None:
        if old is not new and _node_relevant(old) != _node_relevant(new):
            self._moved()

    def _moved(self) -> None:
        if self.queue.move_all_to_active_or_backoff():
            self._wake()

    def start(self) -> None:
        self.factory.start()

    def stop(self) -> None:
        self.factory.stop()


# --- the Celery side ------------------------------------------------------------------------


def _clients(cluster: str) -> tuple[Client, EventRecorder]:
    client = client_for(cluster, COMPONENT, "scheduler")
    return client, EventRecorder(client, component=SCHEDULER_NAME, cluster=cluster)


def schedule(qkey: str) -> None:
    """Schedule the pods waiting in one cluster's queue, for up to BATCH_SECONDS."""
    cluster, _, _ = qkey.partition("|")
    info = cluster_info(cluster)
    if info is None:
        return
    cache = SharedCache(cluster=cluster, component=COMPONENT)
    wake = wake_queue()
    if not cache.synced([PODS, NODES]):
        wake.add_after(qkey, 1.0)
        return
    queue = SchedulingQueue(cluster, speed=info.speed)
    client, events = _clients(cluster)
    scheduler = Cycle(cluster=cluster, cache=cache, queue=queue, client=client, events=events)
    deadline = time.monotonic() + BATCH_SECONDS
    try:
        while time.monotonic() < deadline:
            keys = queue.pop(POP_SIZE)
            if not keys:
                break
            for key in keys:
                scheduler.schedule_pod(key)
    finally:
        scheduler.finish()
    if queue.lengths()["active"]:
        wake.add(qkey)
    else:
        due = queue.next_backoff_due()
        if due is not None:
            wake.add_after(qkey, max(0.0, due - time.time()))


class Cycle:
    """Schedules pods one at a time over a snapshot that it keeps up to date with its own bindings."""

    def __init__(
        self,
        *,
        cluster: str,
        cache: SharedCache,
        queue: SchedulingQueue,
        client: Client,
        events: EventRecorder,
    ) -> None:
        self.cluster = cluster
        self.cache = cache
        self.queue = queue
        self.client = client
        self.events = events
        self.redis = cache.redis
        self.pods = cache.lister(PODS)
        self.assumed = self._live_assumptions()
        self.node_infos = self._snapshot()
        self.by_name: dict[str, NodeInfo] = {ni.name: ni for ni in self.node_infos}
        self.next_start = 0
        self._binder = ThreadPoolExecutor(max_workers=BIND_WORKERS, thread_name_prefix="bind")
        self.binds: list[Future[None]] = []

    def _live_assumptions(self) -> dict[str, str]:
        """Return pod key -> node of the assumptions still in force; drop those past ASSUMED_TTL.

        An assumption whose binding never came back through the watch was made by a task that
        died mid-bind (SIGKILL): forgetting it lets the pod be scheduled again.
        """
        live: dict[str, str] = {}
        now = time.time()
        for raw_key, raw in self.redis.hgetall(_assumed_key(self.cluster)).items():
            key = raw_key.decode()
            node, _, at = raw.decode().partition(" ")
            if at and now - float(at) > ASSUMED_TTL:
                self.redis.hdel(_assumed_key(self.cluster), key)
                continue
            live[key] = node
        return live

    def _snapshot(self) -> list[NodeInfo]:
        nodes = self.cache.lister(NODES).list()
        pods = []
        for pod in self.pods.list():
            node = self.assumed.get(cache_key(pod))
            if node and not _spec(pod).get("nodeName"):
                pod = {**pod, "spec": {**_spec(pod), "nodeName": node}}
            pods.append(pod)
        return build_node_infos(nodes, pods)

    def schedule_pod(self, key: str) -> None:
        """Run one scheduling cycle; on success assume the pod and hand its binding to the pool."""
        namespace, _, name = key.partition("/")
        pod = self.pods.get(namespace, name)
        if pod is None or not is_pending(pod):
            self.queue.delete(key)
            return
        if key in self.assumed:
            # Its binding is in flight (or its task died mid-bind): try again after a backoff,
            # by which time it is bound, or its assumption has expired.
            self.queue.back_off(key)
            return
        result = schedule_one(pod, self.node_infos, registry=DEFAULT_REGISTRY, start=self.next_start)
        self.next_start = (self.next_start + result.processed) % max(1, len(self.node_infos))
        now = datetime.now(UTC)
        attempt = int(self.redis.hget(self.queue._attempts, key) or 0) + 1
        if result.selected is None:
            message = fit_error_message(result, len(self.node_infos)) if self.node_infos else NO_NODES
            self.queue.park_unschedulable(key)
            self._record(result, pod=pod, at=now, message=message, attempt=attempt, bound=False)
            self.events.warning(pod, "FailedScheduling", message)
            self._mark_unschedulable(pod, message, now)
            return
        node = result.selected
        # Assume first, so the next cycle counts this pod on its node while the bind is in flight.
        self.assumed[key] = node
        self.redis.hset(_assumed_key(self.cluster), key, f"{node} {time.time()!r}")
        self.by_name[node].add_pod({**pod, "spec": {**_spec(pod), "nodeName": node}})
        self.binds.append(self._binder.submit(self._bind, key, pod, node, result, now, attempt))
        if len(self.binds) >= MAX_BINDS_IN_FLIGHT:
            # Let the bindings catch up rather than assume hundreds of pods ahead of them.
            self.binds.pop(0).result()

    def _bind(self, key: str, pod: Obj, node: str, result: Result, now: datetime, attempt: int) -> None:
        """The binding cycle (upstream runs it in a goroutine too): bind, then record and tell."""
        namespace, name = _meta(pod)["namespace"], _meta(pod)["name"]
        try:
            self.client.bind(namespace=namespace, pod=name, node=node, uid=_meta(pod).get("uid"))
        except APIStatusError as exc:
            self.redis.hdel(_assumed_key(self.cluster), key)
            if exc.is_not_found() or exc.is_conflict():
                self.queue.delete(key)  # gone, or bound by someone else meanwhile
            else:
                self.queue.back_off(key)
            message = f"Binding rejected: {exc.message}"
            self._record(result, pod=pod, at=now, message=message, attempt=attempt, bound=False)
            return
        except ClientError as exc:  # the apiserver could not be reached: try the pod again
            self.redis.hdel(_assumed_key(self.cluster), key)
            self.queue.back_off(key)
            log.warning("%s: binding %s to %s failed: %s", self.cluster, key, node, exc)
            return
        self.queue.done(key)
        message = f"Successfully assigned {namespace}/{name} to {node}"
        self._record(result, pod=pod, at=now, message=message, attempt=attempt, bound=True)
        self.events.normal(pod, "Scheduled", message)

    def _record(self, result: Result, **fields: Any) -> None:
        results.record(self.cluster, results.decision(result, **fields))

    def finish(self) -> None:
        """Wait for every binding in flight."""
        for future in self.binds:
            future.result()
        self.binds.clear()
        self._binder.shutdown(wait=True)

    def _mark_unschedulable(self, pod: Obj, message: str, now: datetime) -> None:
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("message") == message:
                return
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        try:
            self.client.patch(
                PODS,
                _meta(pod)["name"],
                {"status": {"conditions": [condition]}},
                namespace=_meta(pod)["namespace"],
                subresource="status",
                patch_type=PatchType.STRATEGIC,
            )
        except APIStatusError as exc:
            log.info("could not mark %s unschedulable: %s", cache_key(pod), exc.message)
