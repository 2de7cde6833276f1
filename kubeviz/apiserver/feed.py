"""The explorer's view of the watch: a snapshot of a whole cluster, then every event after it.

The browser stream (``kubeviz.stream``) reaches the store only through here, as the HTTP
watch does through ``watching``.  The facts are the same as an HTTP watch's: the snapshot is
every object as of one revision (read from the history, so nothing written while it is read
leaks in), and the events after it come from the same gapless store watch, each once and in
revision order.

* ``snapshot(name)`` → ``Snapshot(revision, objects)``; Events (core and events.k8s.io) are
  left out: they are a log, not state, and the stream sends new ones as they happen.
* ``follow(name, since)`` yields ``Change``s after ``since`` and ``Idle(revision)`` when
  nothing happened for a while.  A ``since`` that was compacted away raises ``Expired``:
  the caller starts again from a fresh snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async

from kubeviz.apiserver import errors, registry, storage
from kubeviz.store import selectors
from kubeviz.store import watch as store_watch
from kubeviz.store.keys import ClusterNotFound, Compacted, StoreError

Obj = dict[str, Any]

#: Resources whose objects are a log rather than state.
LOGS = {("", "events"), ("events.k8s.io", "events")}


class Expired(Exception):
    """The revision asked for is older than the history kept."""


class Gone(Exception):
    """The cluster does not exist (any more), or its watch stopped."""


@dataclass(frozen=True)
class Change:
    """One write: ADDED, MODIFIED or DELETED, with the object as written."""

    revision: int
    type: str
    group: str
    resource: str
    kind: str
    namespace: str
    name: str
    object: Obj


@dataclass(frozen=True)
class Idle:
    """Nothing new; the cluster is at least at ``revision``."""

    revision: int


@dataclass(frozen=True)
class Snapshot:
    revision: int
    objects: list[tuple[registry.Resource, Obj]]


def _kinds() -> dict[tuple[str, str], registry.Resource]:
    """Each stored resource once (one version of it), by storage key."""
    out: dict[tuple[str, str], registry.Resource] = {}
    for res in registry.resources():
        out.setdefault(res.key(), res)
    return out


def cluster_id(name: str) -> int:
    try:
        return storage.cluster(name).pk
    except ClusterNotFound as exc:
        raise Gone(f'cluster "{name}" not found') from exc


def snapshot(name: str) -> Snapshot:
    """Every object of a cluster as of one revision (Events left out).

    The current rows are read first; if no write landed meanwhile they are the state at that
    revision.  Otherwise the objects are read again as of the revision the reading began at,
    from the history, which compaction keeps readable for every revision after its point.
    """
    try:
        cluster = storage.cluster(name)
        at, compacted = selectors.revision(cluster.pk)
        kinds = [res for key, res in sorted(_kinds().items()) if key not in LOGS]
        objects = [(res, obj) for res in kinds for obj in storage.list_objects(cluster, res)[0]]
        if selectors.revision(cluster.pk)[0] == at:
            return Snapshot(revision=at, objects=objects)
        if at <= compacted:
            raise Expired(f"revision {at} was compacted while it was read")
        try:
            objects = [(res, obj) for res in kinds for obj in storage.list_objects(cluster, res, at=at)[0]]
        except errors.APIError as exc:  # compacted since: the caller starts again
            raise Expired(exc.message) from exc
        return Snapshot(revision=at, objects=objects)
    except ClusterNotFound as exc:
        raise Gone(f'cluster "{name}" not found') from exc


def revision(name: str) -> int:
    return selectors.revision(cluster_id(name))[0]


async def follow(name: str, since: int, *, idle_every: float = 5.0) -> AsyncIterator[Change | Idle]:
    """Yield every write after ``since``, in order and once each, then live ones."""
    cid = await sync_to_async(cluster_id, thread_sensitive=False)(name)
    kinds = _kinds()
    stream = store_watch.stream(cid, since, progress_every=idle_every)
    try:
        while True:
            try:
                item = await stream.__anext__()
            except StopAsyncIteration:
                return
            except Compacted as exc:
                raise Expired(str(exc)) from exc
            except StoreError as exc:
                raise Gone(str(exc)) from exc
            if isinstance(item, store_watch.Progress):
                yield Idle(item.revision)
                continue
            res = kinds.get((item.group, item.resource))
            yield Change(
                revision=item.revision,
                type=item.type,
                group=item.group,
                resource=item.resource,
                kind=res.kind if res is not None else "",
                namespace=item.namespace,
                name=item.name,
                object=item.object,
            )
    finally:
        await stream.aclose()
