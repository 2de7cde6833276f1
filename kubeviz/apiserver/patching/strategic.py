"""Strategic merge patch, the ``application/strategic-merge-patch+json`` patch type.

Mirrors ``k8s.io/apimachinery/pkg/util/strategicpatch`` (``StrategicMergeMapPatch``), which
the apiserver uses for built-in types.  The contract, written from that behaviour:

* Objects merge key by key; a ``null`` value deletes the key.
* A list whose schema has ``x-kubernetes-patch-strategy: merge`` and a
  ``x-kubernetes-patch-merge-key`` merges item by item on that key (an item with a new key
  is added); a ``merge`` list of primitives is merged as a set.  Every other list, and every
  object whose strategy is ``replace``, is replaced by the patch value.
* The merged list is ordered like upstream: items named by the patch (or by
  ``$setElementOrder/<field>``) come in that order, and items only on the server keep
  their place relative to them.  So a new item sent without ``$setElementOrder`` lands in
  front of the items it does not mention, exactly as on a real cluster.
* Directives: ``$patch: replace|delete|merge`` on an object; list items
  ``{"$patch": "replace"}`` (replace the whole list) and ``{<key>: v, "$patch": "delete"}``
  (remove that item); ``$retainKeys`` (drop every other key of the original, used by
  ``retainKeys`` fields such as a Deployment's ``spec.strategy``);
  ``$setElementOrder/<field>``; ``$deleteFromPrimitiveList/<field>``.  No directive key is
  ever left in the result.  A malformed directive raises ``ValueError``.
* Where the schema is unknown (``None``), no list has a merge strategy, so the patch behaves
  like a JSON merge patch (directives are still honoured and stripped).
* Neither argument is mutated.

Deliberate differences from upstream: ``$patch: delete`` on an object removes the key (upstream
leaves ``{}``), and a ``$patch: merge`` list item is ignored instead of rejected.  Like
upstream, ``x-kubernetes-map-type: atomic`` does not affect this patch type (it only drives
server-side apply): kubectl's client-side apply sends field-level patches for such structs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from kubeviz.apiserver.schema import Node, field, items, patch_merge_key, patch_strategy

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"

_DELETED = object()  # a merged value that asked to be removed
_ABSENT = object()  # a key missing from the original or the patch


def strategic_merge_patch(original: dict, patch: dict, schema: Node | None) -> dict:
    """Return ``original`` with the strategic merge ``patch`` applied, per ``schema``."""
    if not isinstance(patch, dict):
        raise ValueError("a strategic merge patch must be a JSON object")
    base = copy.deepcopy(original) if isinstance(original, dict) else {}
    merged = _merge_map(base, copy.deepcopy(patch), node=schema)
    return {} if merged is _DELETED else merged


def _merge_map(original: dict, patch: dict, *, node: Node | None) -> Any:
    """Merge a patch object into an original one (both private copies, changed in place)."""
    directive = patch.pop(PATCH, None)
    if directive == "delete":
        return _DELETED
    if directive == "replace" or (directive is None and "replace" in patch_strategy(node)):
        original = {}
    elif directive not in (None, "merge"):
        raise ValueError(f"unknown $patch directive {directive!r} (expected replace, delete or merge)")
    _apply_retain_keys(original, patch)
    _apply_primitive_deletions(original, patch)
    orders = _pop_orders(patch)
    for key in [*patch, *(k for k in orders if k not in patch)]:
        _merge_field(original, key, value=patch.get(key, _ABSENT), node=node, order=orders.get(key))
    return original


def _merge_field(original: dict, key: str, *, value: Any, node: Node | None, order: list | None) -> None:
    """Merge one key of a patch object into the original object."""
    if value is None:
        original.pop(key, None)
        return
    sub = field(node, key)
    current = original.get(key, _ABSENT)
    if value is _ABSENT:
        if isinstance(current, list):  # only $setElementOrder was sent for this list
            original[key] = _reorder_only(current, order=order, node=sub)
        return
    merged = _merge_value(current, value, node=sub, order=order)
    if merged is _DELETED:
        original.pop(key, None)
    else:
        original[key] = merged


def _merge_value(current: Any, value: Any, *, node: Node | None, order: list | None = None) -> Any:
    """Merge any patch value into the current one; non-containers simply replace it."""
    if isinstance(value, dict):
        return _merge_map(current if isinstance(current, dict) else {}, value, node=node)
    if isinstance(value, list):
        return _merge_list(current if isinstance(current, list) else [], value, node=node, order=order)
    return value


def _merge_list(current: list, patch: list, *, node: Node | None, order: list | None) -> list:
    """Merge a patch list according to the list's patch strategy."""
    key = patch_merge_key(node)
    if "merge" not in patch_strategy(node):
        merged = _replace_list(patch, node)
        if order is None:
            return merged
        ident = _identity(key)
        return _arrange(
            merged,
            patch_order=_order_idents(order, key),
            server_order=[ident(v) for v in current],
            ident=ident,
        )
    if key is not None:
        return _merge_keyed(current, patch, key=key, node=items(node), order=order)
    if any(isinstance(v, dict | list) for v in [*current, *patch]):
        raise ValueError("cannot merge a list of objects that has no x-kubernetes-patch-merge-key")
    return _merge_primitives(current, patch, order=order)


def _replace_list(patch: list, node: Node | None) -> list:
    """Build a replacement list, stripping directives (items carrying ``$patch`` are dropped)."""
    item_node = items(node)
    return [
        _merge_value(_ABSENT, item, node=item_node)
        for item in patch
        if not (isinstance(item, dict) and PATCH in item)
    ]


def _merge_keyed(current: list, patch: list, *, key: str, node: Node | None, order: list | None) -> list:
    """Merge a list of objects item by item on ``key``, honouring item directives."""
    current, kept = _apply_item_directives(current, patch, key=key)
    ident = _identity(key)
    patch_order = [ident(item) for item in kept]
    if order is not None:
        _check_order(patch_order, _order_idents(order, key))
        patch_order = _order_idents(order, key)
    server_order = [ident(item) for item in current]
    merged = list(current)
    position = {}
    for index, item in enumerate(merged):
        position.setdefault(ident(item), index)
    for item in kept:
        found = position.get(ident(item))
        if found is None:
            position[ident(item)] = len(merged)
            merged.append(_merge_map({}, item, node=node))
        else:
            merged[found] = _merge_map(
                merged[found] if isinstance(merged[found], dict) else {}, item, node=node
            )
    return _arrange(merged, patch_order=patch_order, server_order=server_order, ident=ident)


def _apply_item_directives(current: list, patch: list, *, key: str) -> tuple[list, list]:
    """Apply ``$patch`` list items; return the remaining original items and the items to merge."""
    kept: list[dict] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise ValueError(f"list items must be objects to merge them by {key!r}, got {item!r}")
        directive = item.get(PATCH)
        if directive == "replace":
            replace = True
        elif directive == "delete":
            doomed = _identity(key)(_require_key(item, key))
            current = [c for c in current if _identity(key)(c) != doomed]
        elif directive == "merge" and set(item) == {PATCH}:
            continue
        elif directive in (None, "merge"):
            kept.append(_require_key(item, key))
        else:
            raise ValueError(f"unknown $patch directive {directive!r} in a list item")
    return ([] if replace else current), kept


def _require_key(item: dict, key: str) -> dict:
    """Return ``item``, or fail if it lacks the merge key the list is merged by."""
    if key not in item:
        raise ValueError(f"list item {item!r} does not contain declared merge key {key!r}")
    return item


def _merge_primitives(current: list, patch: list, *, order: list | None) -> list:
    """Merge a list of primitives as a set: every value once, original values kept."""
    ident = _identity(None)
    merged, seen = [], set()
    for value in [*current, *patch]:
        if ident(value) not in seen:
            seen.add(ident(value))
            merged.append(value)
    patch_order = [ident(v) for v in patch]
    if order is not None:
        _check_order(patch_order, _order_idents(order, None))
        patch_order = _order_idents(order, None)
    return _arrange(merged, patch_order=patch_order, server_order=[ident(v) for v in current], ident=ident)


def _reorder_only(current: list, *, order: list | None, node: Node | None) -> list:
    """Reorder an untouched list by its ``$setElementOrder`` directive."""
    key = patch_merge_key(node)
    ident = _identity(key)
    return _arrange(
        current,
        patch_order=_order_idents(order or [], key),
        server_order=[ident(v) for v in current],
        ident=ident,
    )


def _arrange(merged: list, *, patch_order: list[str], server_order: list[str], ident: Callable) -> list:
    """Order a merged list: patch items by ``patch_order``, server-only items slotted in.

    Items the patch names are sorted by their rank in ``patch_order``; the others keep
    their relative order and are interleaved so that an item which came before a patch
    item on the server still does.  This reproduces upstream's element-order rules.
    """
    patch_rank = _ranks(patch_order)
    server_rank = _ranks(server_order)
    named = sorted((v for v in merged if ident(v) in patch_rank), key=lambda v: patch_rank[ident(v)])
    others = [v for v in merged if ident(v) not in patch_rank]
    out, i, j = [], 0, 0
    while i < len(others) and j < len(named):
        left, right = server_rank.get(ident(others[i])), server_rank.get(ident(named[j]))
        if left is not None and right is not None and left < right:
            out.append(others[i])
            i += 1
        else:
            out.append(named[j])
            j += 1
    return out + others[i:] + named[j:]


def _ranks(idents: list[str]) -> dict[str, int]:
    """Map each identity to the position of its first occurrence."""
    ranks: dict[str, int] = {}
    for index, ident in enumerate(idents):
        ranks.setdefault(ident, index)
    return ranks


def _identity(key: str | None) -> Callable[[Any], str]:
    """Return a function giving a hashable identity: the merge-key value, or the value itself."""
    if key is None:
        return lambda value: json.dumps(value, sort_keys=True)
    return lambda item: json.dumps(item.get(key) if isinstance(item, dict) else item, sort_keys=True)


def _order_idents(order: list, key: str | None) -> list[str]:
    """Turn a ``$setElementOrder`` list into item identities, validating its entries."""
    if key is not None:
        for entry in order:
            if not isinstance(entry, dict) or key not in entry:
                raise ValueError(f"$setElementOrder entries must be objects with the merge key {key!r}")
    ident = _identity(key)
    return [ident(entry) for entry in order]


def _check_order(patch_idents: list[str], order_idents: list[str]) -> None:
    """Reject a patch list whose items are not in the order ``$setElementOrder`` gives."""
    remaining = iter(order_idents)
    if not all(ident in remaining for ident in patch_idents):
        raise ValueError("the order of the patch list doesn't match its $setElementOrder list")


def _pop_orders(patch: dict) -> dict[str, list]:
    """Remove the ``$setElementOrder/<field>`` directives from a patch and return them by field."""
    orders = {}
    for name in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(name)
        if not isinstance(order, list):
            raise ValueError(f"{name} must be a list")
        orders[name[len(SET_ORDER) :]] = order
    return orders


def _apply_primitive_deletions(original: dict, patch: dict) -> None:
    """Remove the values listed by ``$deleteFromPrimitiveList/<field>`` from the original lists."""
    for name in [k for k in patch if k.startswith(DELETE_FROM)]:
        doomed = patch.pop(name)
        if not isinstance(doomed, list):
            raise ValueError(f"{name} must be a list")
        target = name[len(DELETE_FROM) :]
        current = original.get(target)
        if isinstance(current, list):
            ident = _identity(None)
            gone = {ident(v) for v in doomed}
            original[target] = [v for v in current if ident(v) not in gone]


def _apply_retain_keys(original: dict, patch: dict) -> None:
    """Honour ``$retainKeys``: drop every original key it does not list.

    The patch itself may only set listed keys; anything else is a malformed patch.
    """
    keep = patch.pop(RETAIN_KEYS, _ABSENT)
    if keep is _ABSENT:
        return
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise ValueError("$retainKeys must be a list of field names")
    for key, value in patch.items():
        if value is not None and not key.startswith((SET_ORDER, DELETE_FROM)) and key not in keep:
            raise ValueError(f"$retainKeys does not list {key!r}, which the patch sets")
    for key in [k for k in original if k not in keep]:
        del original[key]
