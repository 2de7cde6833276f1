"""Controller references: who owns what, adoption and release.

Mirrors ``pkg/controller/controller_ref_manager.go`` (``ClaimPods``, ``ClaimReplicaSets``)
and ``metav1.NewControllerRef``.  A controller owns the objects whose ``ownerReferences``
carry its uid with ``controller: true``.  It adopts orphans that match its selector (by
patching a controller reference onto them) and releases owned objects that stop matching (by
patching the reference off).  It never adopts while it is itself being deleted.

Patches carry the object's uid as a precondition, so adopting an object that was replaced by a
namesake fails instead of adopting the newcomer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeviz.client.labels import Selector, as_selector
from kubeviz.client.rest import APIStatusError, Client, PatchType, Resource
from kubeviz.controllers.objects import meta, new_controller_ref

Obj = dict[str, Any]


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the object's controller reference, or None."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == meta(owner).get("uid")


def claim(
    client: Client,
    resource: Resource,
    *,
    owner: Mapping[str, Any],
    candidates: list[Obj],
    selector: Selector | Mapping[str, Any] | str | None,
) -> list[Obj]:
    """Return the candidates ``owner`` controls, adopting matching orphans and releasing strays.

    ``candidates`` are the objects of ``resource`` in the owner's namespace.  Objects another
    controller owns are left alone.  Adoption and release failures drop the object from the
    answer (the next sync tries again), except a release that fails because the object is
    gone.
    """
    match = as_selector(selector)
    being_deleted = bool(meta(owner).get("deletionTimestamp"))
    owned: list[Obj] = []
    for obj in candidates:
        ref = controller_of(obj)
        matches = not match.empty() and match.matches_object(obj)
        if ref is not None:
            if ref.get("uid") != meta(owner).get("uid"):
                continue
            if matches or being_deleted:
                owned.append(obj)
                continue
            _release(client, resource, obj, owner)
            continue
        if not matches or being_deleted or meta(obj).get("deletionTimestamp"):
            continue
        adopted = _adopt(client, resource, obj, owner)
        if adopted is not None:
            owned.append(adopted)
    return owned


def _adopt(client: Client, resource: Resource, obj: Obj, owner: Mapping[str, Any]) -> Obj | None:
    refs = [*(meta(obj).get("ownerReferences") or []), new_controller_ref(owner)]
    try:
        return client.patch(
            resource,
            meta(obj)["name"],
            {"metadata": {"ownerReferences": refs, "uid": meta(obj)["uid"]}},
            namespace=meta(obj).get("namespace"),
            patch_type=PatchType.MERGE,
        )
    except APIStatusError:
        return None


def _release(client: Client, resource: Resource, obj: Obj, owner: Mapping[str, Any]) -> None:
    refs = [r for r in meta(obj).get("ownerReferences") or [] if r.get("uid") != meta(owner).get("uid")]
    try:
        client.patch(
            resource,
            meta(obj)["name"],
            {"metadata": {"ownerReferences": refs or None, "uid": meta(obj)["uid"]}},
            namespace=meta(obj).get("namespace"),
            patch_type=PatchType.MERGE,
        )
    except APIStatusError as exc:
        if not exc.is_not_found():
            raise
