"""Pure decisions of the garbage collector.

Mirrors ``pkg/controller/garbagecollector``: the owner classification of ``classifyReferences``
(solid, dangling, waiting for its dependents' deletion), the three outcomes of
``attemptToDeleteItem`` (leave alone, patch references away, delete with a propagation
policy), ``blockingDependents`` of ``graph.go``, and the patches of ``patch.go``.

Keys.  The collector watches many resources, so a key names the resource as well as the
object, and the uid too: an owner's key must still find its dependents after the owner has
left the cache.  A key is ``<resource>|<namespace>|<name>|<uid>``, where ``<resource>`` is
``plural[.group]`` as the shared cache names it and ``<namespace>`` is empty for
cluster-scoped objects.  None of these parts can hold a ``|``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubeviz.client.rest import BUILTIN, Resource
from kubeviz.client.sharedcache import resource_key
from kubeviz.controllers.objects import meta as _meta

Obj = Mapping[str, Any]

FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN_FINALIZER = "orphan"

_BY_KIND = {(r.api_version, r.kind): r for r in BUILTIN}


@dataclass(frozen=True)
class Target:
    """One object the collector looks at: where it is cached, and which incarnation."""

    resource: str
    namespace: str
    name: str
    uid: str

    def encode(self) -> str:
        return f"{self.resource}|{self.namespace}|{self.name}|{self.uid}"

    @classmethod
    def decode(cls, key: str) -> Target:
        resource, namespace, name, uid = key.split("|")
        return cls(resource, namespace, name, uid)


def target_of(resource: Resource, obj: Obj) -> Target:
    """Return the target (and so the key) of a cached object."""
    meta = _meta(obj)
    return Target(resource_key(resource), meta.get("namespace") or "", meta["name"], meta.get("uid") or "")


def resource_of_reference(ref: Obj) -> Resource | None:
    """Return the built-in resource an ownerReference's apiVersion and kind name, or None."""
    return _BY_KIND.get((ref.get("apiVersion", ""), ref.get("kind", "")))


def owner_target(ref: Obj, *, namespace: str) -> Target | None:
    """Return the target of the owner an ownerReference of an object in ``namespace`` names."""
    resource = resource_of_reference(ref)
    if resource is None or not ref.get("uid") or not ref.get("name"):
        return None
    return Target(resource_key(resource), namespace if resource.namespaced else "", ref["name"], ref["uid"])


def keys_for(resource: Resource, obj: Obj) -> list[str]:
    """Map an event's object to the keys to look at: itself and each owner it names.

    Its owners are looked at again so an owner deleting in the foreground notices that a
    blocking dependent went away, as upstream's graph builder re-queues such owners.
    """
    meta = _meta(obj)
    if not meta.get("name"):
        return []
    keys = [target_of(resource, obj).encode()]
    for ref in meta.get("ownerReferences") or []:
        owner = owner_target(ref, namespace=meta.get("namespace") or "")
        if owner is not None:
            keys.append(owner.encode())
    return keys


def being_deleted(obj: Obj) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def has_finalizer(obj: Obj, name: str) -> bool:
    return name in (_meta(obj).get("finalizers") or [])


def deleting_dependents(obj: Obj) -> bool:
    """Tell whether an object is being deleted in the foreground (waits for its dependents)."""
    return being_deleted(obj) and has_finalizer(obj, FOREGROUND_FINALIZER)


def orphaning_dependents(obj: Obj) -> bool:
    """Tell whether an object is being deleted and waits for its dependents to be orphaned."""
    return being_deleted(obj) and has_finalizer(obj, ORPHAN_FINALIZER)


def reference_to(obj: Obj, owner_uid: str) -> Obj | None:
    """Return the ownerReference of ``obj`` naming ``owner_uid``, or None."""
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("uid") == owner_uid:
            return ref
    return None


def blocking_dependents(owner_uid: str, dependents: Iterable[Obj]) -> list[Obj]:
    """Return the dependents whose reference to the owner blocks its foreground deletion."""
    out = []
    for dep in dependents:
        ref = reference_to(dep, owner_uid)
        if ref is not None and ref.get("blockOwnerDeletion"):
            out.append(dep)
    return out


class OwnerState(StrEnum):
    """What an owner reference points at."""

    SOLID = "solid"  # the owner exists and is not waiting for its dependents
    DANGLING = "dangling"  # no object with that uid exists
    WAITING = "waiting"  # the owner is being deleted in the foreground


def owner_state(owner: Obj | None, uid: str) -> OwnerState:
    """Classify one owner reference from the owner's current state (None: not found)."""
    if owner is None or _meta(owner).get("uid") != uid:
        return OwnerState.DANGLING
    return OwnerState.WAITING if deleting_dependents(owner) else OwnerState.SOLID


@dataclass(frozen=True)
class Action:
    """What ``attemptToDeleteItem`` decided for one dependent."""

    verb: str  # "none", "patch" (drop references) or "delete"
    policy: str = ""
    drop: tuple[str, ...] = ()  # owner uids whose references are patched away
    unblock: bool = False  # make the item's owner references non-blocking before deleting


NOTHING = Action("none")


def decide(
    states: Mapping[str, OwnerState],
    *,
    item: Obj,
    has_dependents: bool,
    dependent_deleting_dependents: bool,
) -> Action:
    """Decide what happens to a dependent whose owner references classify as ``states``.

    * Some owner is solid: keep the item, but drop the references to dangling owners and to
      owners waiting for their dependents (else those would wait for ever).
    * No solid owner, one waiting, and the item has dependents of its own: delete it in the
      foreground so the wait propagates down; if one of its dependents is itself deleting
      in the foreground, make the item's references non-blocking first (cycle guard).
    * Otherwise delete it, honouring an orphan or foreground finalizer it already carries,
      else in the background.
    """
    solid = [u for u, s in states.items() if s is OwnerState.SOLID]
    dangling = [u for u, s in states.items() if s is OwnerState.DANGLING]
    waiting = [u for u, s in states.items() if s is OwnerState.WAITING]
    if solid:
        if not dangling and not waiting:
            return NOTHING
        return Action("patch", drop=tuple(dangling + waiting))
    if waiting and has_dependents:
        return Action("delete", policy="Foreground", unblock=dependent_deleting_dependents)
    if has_finalizer(item, ORPHAN_FINALIZER):
        return Action("delete", policy="Orphan")
    if has_finalizer(item, FOREGROUND_FINALIZER):
        return Action("delete", policy="Foreground")
    return Action("delete", policy="Background")


def delete_owner_refs_patch(dependent_uid: str, owner_uids: Iterable[str]) -> dict[str, Any]:
    """Return the strategic merge patch that drops references; the uid is a precondition."""
    return {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": uid} for uid in owner_uids],
            "uid": dependent_uid,
        }
    }


def unblock_owner_refs_patch(item: Obj) -> dict[str, Any] | None:
    """Return the strategic merge patch setting every blocking reference non-blocking."""
    refs = [
        {"uid": ref["uid"], "blockOwnerDeletion": False}
        for ref in _meta(item).get("ownerReferences") or []
        if ref.get("blockOwnerDeletion")
    ]
    if not refs:
        return None
    return {"metadata": {"ownerReferences": refs, "uid": _meta(item).get("uid")}}


def without_finalizer(obj: Obj, name: str) -> list[str] | None:
    """Return the finalizers with ``name`` removed, or None if it was not there."""
    finalizers = list(_meta(obj).get("finalizers") or [])
    if name not in finalizers:
        return None
    return [f for f in finalizers if f != name]


def invalid_namespace_message(ref: Obj, *, namespace: str) -> str:
    """Return upstream's OwnerRefInvalidNamespace event message."""
    return (
        f"ownerRef [{ref.get('apiVersion', '')}/{ref.get('kind', '')}, namespace: {namespace}, "
        f'name: {ref.get("name", "")}, uid: {ref.get("uid", "")}] does not exist in namespace "{namespace}"'
    )
