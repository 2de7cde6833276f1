"""Server-side apply and field ownership (``metadata.managedFields``).

Mirrors ``sigs.k8s.io/structured-merge-diff`` (``merge.Updater``: ``Apply`` and ``Update``)
together with the apiserver's field manager in ``k8s.io/apimachinery/pkg/util/managedfields``.

Field sets use the ``FieldsV1`` encoding: ``f:<name>`` for an object field, ``k:<json>`` for
an item of a ``x-kubernetes-list-type: map`` list (the JSON object of its key fields, keys
sorted), ``v:<json>`` for an item of a ``set`` list, and ``"."`` for "this item/map itself"
when the path also has children.  The shape of every value comes from the schema:

* objects are granular unless ``x-kubernetes-map-type: atomic``; keys that the schema does not
  declare (map entries such as labels, or anything below an unknown schema) are owned too;
* ``map`` lists, and ``merge`` lists with a ``x-kubernetes-patch-merge-key`` but no list type,
  are keyed by item; ``set`` lists (and keyless ``merge`` lists) by value;
* everything else (scalars, atomic maps and lists, lists without metadata) is a leaf.

``apiVersion``, ``kind`` and server-managed metadata (name, namespace, uid, resourceVersion,
generation, creationTimestamp, deletionTimestamp, managedFields, selfLink) are never owned;
``status`` is left out when the caller passes ``exclude_status=True`` (the main resource of a
type with a status subresource).  With no schema at all, ``metadata`` still uses ObjectMeta.

Public API: :func:`fields_of`, :func:`server_side_apply` (``application/apply-patch+yaml``)
and :func:`record_update` (create, update and the other patch types), plus
:class:`ApplyConflict`.  Inputs are never mutated.  Managers are identified, as upstream, by
manager name, operation and subresource (plus apiVersion for ``Update`` entries).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubeviz.apiserver.schema import (
    Node,
    field,
    items,
    list_map_keys,
    list_type,
    map_type,
    patch_merge_key,
    patch_strategy,
    resolve,
)

Path = tuple[str, ...]

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_SERVER_META = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
    "clusterName",
)
_NEVER_OWNED: frozenset[Path] = frozenset(
    {("f:apiVersion",), ("f:kind",), ("f:metadata",)} | {("f:metadata", f"f:{n}") for n in _SERVER_META}
)
_STATUS: Path = ("f:status",)
# The JSON schemas dropped OpenAPI defaults; Kubernetes defaults a missing port protocol to TCP,
# and server-side apply keys ports by it.
_KEY_DEFAULTS = {"protocol": "TCP"}

_PRESENT = object()  # the value recorded for an owned path that is not a leaf
_ABSENT = object()


class ApplyConflict(Exception):
    """An apply changed fields that other managers own; raised unless ``force`` is set.

    ``conflicts`` lists ``(manager, field path)`` pairs such as ``("kubectl", ".spec.replicas")``;
    ``owners`` describes each conflicting manager the way Kubernetes prints it.
    """

    def __init__(self, conflicts: list[tuple[str, str]], *, owners: list[str] | None = None):
        self.conflicts = list(conflicts)
        self.owners = owners if owners is not None else [json.dumps(m) for m, _ in conflicts]
        super().__init__(_conflict_message(self.owners, [path for _, path in self.conflicts]))

    def causes(self) -> list[dict[str, str]]:
        """Return the Status ``details.causes`` Kubernetes sends with a 409 apply conflict."""
        return [
            {"reason": "FieldManagerConflict", "message": f"conflict with {owner}", "field": path}
            for owner, (_, path) in zip(self.owners, self.conflicts, strict=True)
        ]


@dataclass
class _Entry:
    """One managedFields entry, with its field set decoded into paths."""

    manager: str
    operation: str
    subresource: str
    api_version: str
    time: str | None
    fields: set[Path]

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identify the manager as upstream does: apiVersion only matters for updaters."""
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, self.subresource, version)

    def describe(self) -> str:
        """Name the manager the way conflict messages do."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


# --------------------------------------------------------------------------- public API


def fields_of(obj: dict, schema: Node | None, *, exclude_status: bool = False) -> dict:
    """Return the FieldsV1 set of the fields ``obj`` specifies, to record who set what."""
    return _encode(_field_values(obj, schema, exclude_status=exclude_status))


def server_side_apply(
    live: dict | None,
    applied: dict,
    *,
    manager: str,
    force: bool,
    schema: Node | None,
    now: str,
    subresource: str = "",
    exclude_status: bool = False,
) -> dict:
    """Merge an applied configuration into the live object and return the new object.

    Fields this manager applied before but no longer specifies are removed unless someone
    else owns them; changing a field another manager owns raises :class:`ApplyConflict`
    unless ``force`` moves the ownership.  ``metadata.managedFields`` is rewritten.
    """
    config = _strip_config(applied, exclude_status=exclude_status)
    current = copy.deepcopy(live) if live else {}
    entries = _load_entries(_managed_fields(current))
    _drop_managed_fields(current)
    me = _Entry(manager, "Apply", subresource, str(config.get("apiVersion", "")), None, set())
    previous = entries.pop(me.key, None)
    me.fields = set(_field_values(config, schema, exclude_status=exclude_status))
    root = _root(schema)
    merged = _merge(copy.deepcopy(current), config, node=root)
    stale = previous.fields - me.fields if previous else set()
    _prune(merged, stale, owners=[me, *entries.values()], root=root)
    changed, removed = _diff(current, merged, schema=schema, exclude_status=exclude_status)
    _take_over(entries, changed, force=force)
    _forget(entries.values(), removed)
    me.time = previous.time if previous and previous.time and not (changed or removed) else now
    entries[me.key] = me
    return _with_managed_fields(merged, entries)


def record_update(
    old: dict | None,
    new: dict,
    *,
    manager: str,
    schema: Node | None,
    now: str,
    subresource: str = "",
    exclude_status: bool = False,
) -> dict:
    """Return ``new`` with managedFields crediting ``manager`` for every field it changed.

    Used for create, update and non-apply patches: the changed fields move to the
    manager's ``Update`` entry, and fields that disappeared are dropped from every entry.
    """
    result = copy.deepcopy(new)
    entries = _load_entries(_initial_managed_fields(old, result))
    _drop_managed_fields(result)
    before = copy.deepcopy(old) if old else {}
    _drop_managed_fields(before)
    changed, removed = _diff(before, result, schema=schema, exclude_status=exclude_status)
    _forget(entries.values(), changed | removed)
    if changed:
        me = _Entry(manager, "Update", subresource, str(result.get("apiVersion", "")), now, set())
        me = entries.setdefault(me.key, me)
        me.fields |= changed
        me.time = now
    return _with_managed_fields(result, entries)


# --------------------------------------------------------------------------- schema shapes


def _root(schema: Node | None) -> Node:
    """Return the schema to walk; without one, still know that ``metadata`` is ObjectMeta."""
    if schema is not None:
        return schema
    return {"properties": {"metadata": {"$ref": f"#/$defs/{_OBJECT_META}"}}}


def _shape(node: Node | None, value: Any) -> str:
    """Classify a value for ownership: "map", "keyed" or "set" (granular) or "leaf"."""
    if isinstance(value, dict):
        return "leaf" if map_type(node) == "atomic" else "map"
    if isinstance(value, list):
        return _list_shape(node)
    return "leaf"


def _list_shape(node: Node | None) -> str:
    """Classify a list node: keyed by fields, a set of values, or atomic ("leaf")."""
    kind = list_type(node)
    if kind == "map":
        return "keyed"
    if kind == "set":
        return "set"
    if kind is None and "merge" in patch_strategy(node):
        return "keyed" if patch_merge_key(node) else "set"
    return "leaf"


def _declared(node: Node | None) -> set[str]:
    """Return the property names a struct node declares (its other keys are map entries)."""
    resolved = resolve(node)
    return set((resolved or {}).get("properties") or {})


def _element(item: Any, node: Node | None) -> str:
    """Return the FieldsV1 path element naming one item of a keyed or set list."""
    if _list_shape(node) != "keyed":
        return "v:" + _json(item)
    keys = list_map_keys(node) or [patch_merge_key(node)]
    values = {}
    for key in keys:
        if isinstance(item, dict) and key in item:
            values[key] = item[key]
        elif (default := _key_default(node, key)) is not None:
            values[key] = default
    return "k:" + _json(values)


def _key_default(node: Node | None, key: str) -> Any:
    """Return the default of a list-map key field, so omitted keys still identify the item."""
    key_node = field(items(node), key) or {}
    return key_node.get("default", _KEY_DEFAULTS.get(key))


def _json(value: Any) -> str:
    """Encode a value compactly with sorted keys, as path elements and comparisons need."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- field sets


def _field_values(obj: dict, schema: Node | None, *, exclude_status: bool) -> dict[Path, Any]:
    """Map every owned path of ``obj`` to its value (``_PRESENT`` for non-leaf members)."""
    flat: dict[Path, Any] = {}
    _walk(obj, node=_root(schema), path=(), out=flat)
    return {p: v for p, v in flat.items() if p and not _unowned(p, exclude_status=exclude_status)}


def _unowned(path: Path, *, exclude_status: bool) -> bool:
    """Tell whether a path is never tracked (type/server metadata, or status when excluded)."""
    return path in _NEVER_OWNED or (exclude_status and path[0] == _STATUS[0])


def _walk(value: Any, *, node: Node | None, path: Path, out: dict[Path, Any]) -> None:
    """Record the owned paths under ``path``, descending only into granular values."""
    shape = _shape(node, value)
    if shape == "map":
        _walk_map(value, node=node, path=path, out=out)
    elif shape in ("keyed", "set"):
        _walk_list(value, node=node, path=path, out=out)
    else:
        out[path] = value


def _walk_map(value: dict, *, node: Node | None, path: Path, out: dict[Path, Any]) -> None:
    """Record an object's fields; an empty object is itself a leaf."""
    if not value:
        out[path] = {}
        return
    declared = _declared(node)
    for key, child in value.items():
        child_path = (*path, f"f:{key}")
        if child is None:
            out[child_path] = None
            continue
        _walk(child, node=field(node, key), path=child_path, out=out)
        if key not in declared:
            out.setdefault(child_path, _PRESENT)


def _walk_list(value: list, *, node: Node | None, path: Path, out: dict[Path, Any]) -> None:
    """Record each item of an associative list, plus the item itself ("." in FieldsV1)."""
    seen = set()
    for item in value:
        element = _element(item, node)
        if element in seen:
            continue
        seen.add(element)
        item_path = (*path, element)
        if element.startswith("k:"):
            _walk(item, node=items(node), path=item_path, out=out)
        out[item_path] = _PRESENT


def _encode(paths: Iterable[Path]) -> dict:
    """Encode a set of paths as FieldsV1 (a member with children gets a "." entry)."""
    paths = set(paths)
    tree: dict = {}
    for path in paths:
        branch = tree
        for element in path:
            branch = branch.setdefault(element, {})
    for path in paths:
        branch = tree
        for element in path:
            branch = branch[element]
        if branch and "." not in branch:
            branch["."] = {}
    return _sorted_tree(tree)


def _sorted_tree(tree: dict) -> dict:
    """Sort FieldsV1 keys (so "." comes first), giving stable output."""
    return {key: _sorted_tree(tree[key]) for key in sorted(tree)}


def _decode(tree: dict, prefix: Path = ()) -> set[Path]:
    """Decode FieldsV1 into the set of owned paths."""
    paths: set[Path] = set()
    for element, sub in tree.items():
        if element == ".":
            if prefix:
                paths.add(prefix)
        elif isinstance(sub, dict) and sub:
            paths |= _decode(sub, (*prefix, element))
        else:
            paths.add((*prefix, element))
    return paths


def _path_string(path: Path) -> str:
    """Render a path the way Kubernetes reports conflicts: ``.spec.containers[name="a"].image``."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append(f".{text}")
        elif kind == "k:":
            keys = json.loads(text)
            parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(keys.items())) + "]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


# --------------------------------------------------------------------------- managedFields


def _managed_fields(obj: dict) -> list:
    """Return the raw managedFields list of an object (empty if absent or malformed)."""
    raw = (obj.get("metadata") or {}).get("managedFields")
    return raw if isinstance(raw, list) else []


def _initial_managed_fields(old: dict | None, new: dict) -> list:
    """Pick the entries to start from: the request's own, else the stored object's.

    As upstream, a request may set managedFields explicitly; ``[{}]`` resets them.
    """
    given = _managed_fields(new)
    if given:
        return [] if given == [{}] else given
    return _managed_fields(old) if old else []


def _drop_managed_fields(obj: dict) -> None:
    """Remove managedFields from a private copy so they never count as object fields."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)


def _load_entries(raw: list) -> dict[tuple, _Entry]:
    """Decode managedFields entries by manager identity (duplicates are merged)."""
    entries: dict[tuple, _Entry] = {}
    for item in raw:
        if not isinstance(item, dict):
            continue
        entry = _Entry(
            manager=str(item.get("manager", "")),
            operation=str(item.get("operation", "")),
            subresource=str(item.get("subresource", "")),
            api_version=str(item.get("apiVersion", "")),
            time=item.get("time"),
            fields=_decode(item.get("fieldsV1") or {}),
        )
        if entry.key in entries:
            entries[entry.key].fields |= entry.fields
        else:
            entries[entry.key] = entry
    return entries


def _with_managed_fields(obj: dict, entries: dict[tuple, _Entry]) -> dict:
    """Store the non-empty entries on ``obj``, sorted as upstream (Apply first, then by time)."""
    kept = sorted(
        (e for e in entries.values() if e.fields),
        key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource),
    )
    if kept:
        obj.setdefault("metadata", {})["managedFields"] = [_dump_entry(e) for e in kept]
    else:
        _drop_managed_fields(obj)
    return obj


def _dump_entry(entry: _Entry) -> dict[str, Any]:
    """Encode one entry in the ``ManagedFieldsEntry`` JSON layout."""
    out: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation}
    out["apiVersion"] = entry.api_version
    if entry.time:
        out["time"] = entry.time
    out["fieldsType"] = "FieldsV1"
    out["fieldsV1"] = _encode(entry.fields)
    if entry.subresource:
        out["subresource"] = entry.subresource
    return out


# --------------------------------------------------------------------------- ownership


def _diff(old: dict, new: dict, *, schema: Node | None, exclude_status: bool) -> tuple[set[Path], set[Path]]:
    """Return the owned paths added or modified, and those removed, between two objects."""
    before = _field_values(old, schema, exclude_status=exclude_status)
    after = _field_values(new, schema, exclude_status=exclude_status)
    changed = {p for p, v in after.items() if p not in before or not _same(before[p], v)}
    removed = set(before) - set(after)
    # An object that merely became empty (or stopped being empty) is not itself a change:
    # only the entries that came or went are.
    changed -= _emptied(after, _parents(before))
    removed -= _emptied(before, _parents(after))
    return changed, removed


def _parents(flat: dict[Path, Any]) -> set[Path]:
    """Return every proper prefix of the recorded paths."""
    return {path[:n] for path in flat for n in range(1, len(path))}


def _emptied(flat: dict[Path, Any], parents: set[Path]) -> set[Path]:
    """Return the empty-object leaves of ``flat`` that hold entries on the other side."""
    return {p for p, v in flat.items() if v == {} and p in parents}


def _same(a: Any, b: Any) -> bool:
    """Compare two recorded values strictly (``1`` is not ``true``, order counts in lists)."""
    if a is _PRESENT or b is _PRESENT:
        return a is b
    return _json(a) == _json(b)


def _take_over(others: dict[tuple, _Entry], changed: set[Path], *, force: bool) -> None:
    """Fail on fields another manager owns that the apply changes, or take them if forced."""
    found = [(entry, path) for entry in others.values() for path in sorted(entry.fields & changed)]
    if not found:
        return
    if not force:
        raise ApplyConflict(
            [(entry.manager, _path_string(path)) for entry, path in found],
            owners=[entry.describe() for entry, _ in found],
        )
    for entry, path in found:
        entry.fields.discard(path)


def _forget(entries: Iterable[_Entry], paths: set[Path]) -> None:
    """Remove paths, and anything below them, from each entry's field set."""
    if not paths:
        return
    for entry in entries:
        entry.fields = {p for p in entry.fields if not _under_any(p, paths)}


def _under_any(path: Path, roots: set[Path]) -> bool:
    """Tell whether ``path`` equals or lies below one of ``roots``."""
    return any(path[:n] in roots for n in range(1, len(path) + 1))


def _conflict_message(owners: list[str], paths: list[str]) -> str:
    """Word the conflict like the apiserver: one line for one, grouped by manager otherwise."""
    if len(paths) == 1:
        return f"Apply failed with 1 conflict: conflict with {owners[0]}: {paths[0]}"
    grouped: dict[str, list[str]] = {}
    for owner, path in zip(owners, paths, strict=True):
        grouped.setdefault(owner, []).append(path)
    lines = []
    for owner in sorted(grouped):
        lines.append(f"conflicts with {owner}:")
        lines.extend(f"- {path}" for path in grouped[owner])
    return f"Apply failed with {len(paths)} conflicts: " + "\n".join(lines)


# --------------------------------------------------------------------------- merging


def _strip_config(applied: dict, *, exclude_status: bool) -> dict:
    """Copy the applied config without nulls, managedFields and (optionally) status.

    A null in an apply configuration specifies nothing, so it is treated as omitted.
    """
    config = _without_nulls(copy.deepcopy(applied))
    _drop_managed_fields(config)
    if exclude_status:
        config.pop("status", None)
    return config


def _without_nulls(value: Any) -> Any:
    """Drop null object values, recursively."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _merge(live: Any, applied: Any, *, node: Node | None) -> Any:
    """Merge applied values into live ones: granular values recursively, leaves replaced."""
    shape = _shape(node, applied)
    if shape == "map" and isinstance(live, dict):
        merged = dict(live)
        for key, value in applied.items():
            merged[key] = _merge(live.get(key, _ABSENT), value, node=field(node, key))
        return merged
    if shape in ("keyed", "set") and isinstance(live, list):
        return _merge_list(live, applied, node=node)
    return applied


def _merge_list(live: list, applied: list, *, node: Node | None) -> list:
    """Merge associative lists item by item, keeping the applied order for applied items.

    Live-only items stay where they were; applied items follow the applied order (the
    same interleaving structured-merge-diff produces).
    """
    live_keys = [_element(item, node) for item in live]
    by_key: dict[str, Any] = {}
    for key, item in zip(live_keys, live, strict=True):
        by_key.setdefault(key, item)
    wanted = _unique_items(applied, node)
    applied_keys = [key for key, _ in wanted]
    applied_set = set(applied_keys)
    item_node = items(node)

    def merged(index: int) -> Any:
        """Merge the applied item at ``index`` into its live twin (set values need no merge)."""
        key, item = wanted[index]
        return _merge(by_key.get(key, _ABSENT), item, node=item_node) if key.startswith("k:") else item

    out, done, li, ri = [], set(), 0, 0
    while li < len(live) or ri < len(wanted):
        if li < len(live):
            key = live_keys[li]
            if key not in applied_set or key in done:
                if key not in applied_set:
                    out.append(live[li])
                li += 1
                continue
            if applied_keys[ri] == key:
                out.append(merged(ri))
                done.add(key)
                li, ri = li + 1, ri + 1
                continue
            if key != _next_shared(applied_keys[ri:], live=by_key, done=done):
                li += 1
                continue
        out.append(merged(ri))
        done.add(applied_keys[ri])
        ri += 1
    return out


def _unique_items(values: list, node: Node | None) -> list[tuple[str, Any]]:
    """Pair applied list items with their path element, keeping the first of duplicates."""
    seen, out = set(), []
    for value in values:
        key = _element(value, node)
        if key not in seen:
            seen.add(key)
            out.append((key, value))
    return out


def _next_shared(keys: list[str], *, live: dict[str, Any], done: set[str]) -> str | None:
    """Return the next applied key that is also live and not merged yet."""
    return next((k for k in keys if k in live and k not in done), None)


def _prune(obj: dict, paths: set[Path], *, owners: list[_Entry], root: Node) -> None:
    """Remove what the applier stopped specifying, unless some manager still owns it."""
    owned = set().union(*(entry.fields for entry in owners))
    for path in sorted(paths, key=len):
        if path not in owned and not any(p[: len(path)] == path for p in owned):
            _remove(obj, path, node=root)


def _remove(obj: dict, path: Path, *, node: Node | None) -> None:
    """Delete the value at ``path`` and any object or list that this leaves empty."""
    chain = []
    current: Any = obj
    for element in path:
        chain.append((current, element, node))
        current, node = _step(current, element, node=node)
        if current is _ABSENT:
            return
    for container, element, container_node in reversed(chain):
        _discard(container, element, node=container_node)
        if container is obj or container:
            break


def _step(container: Any, element: str, *, node: Node | None) -> tuple[Any, Node | None]:
    """Follow one path element down from a value; ``_ABSENT`` if it is not there."""
    if element.startswith("f:") and isinstance(container, dict):
        return container.get(element[2:], _ABSENT), field(node, element[2:])
    if isinstance(container, list):
        for item in container:
            if _element(item, node) == element:
                return item, items(node)
    return _ABSENT, None


def _discard(container: Any, element: str, *, node: Node | None) -> None:
    """Remove the field or list item named by ``element`` from its container."""
    if element.startswith("f:") and isinstance(container, dict):
        container.pop(element[2:], None)
    elif isinstance(container, list):
        container[:] = [item for item in container if _element(item, node) != element]
