"""Kubernetes v1.36 type definitions, and how to walk them.

The definitions come from the ``kubernetes-validate`` package, which ships the upstream
OpenAPI schemas converted to JSON Schema (``v1.36.0-local-strict/_definitions.json``,
with ``additionalProperties: false`` on every struct).  They carry the list and patch
metadata (``x-kubernetes-patch-merge-key``, ``x-kubernetes-list-type`` ...) that strategic
merge patch and server-side apply need, so nothing here is written by hand.

A *node* is a plain dict from that file; ``$ref`` nodes are resolved on the way down.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate

SCHEMA_VERSION = "v1.36.0"

Node = dict[str, Any]


def _schema_dir(strict: bool) -> Path:
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    return base / (f"{SCHEMA_VERSION}-local-strict" if strict else f"{SCHEMA_VERSION}-local")


@cache
def definitions() -> dict[str, Node]:
    """Return every definition by its dotted name (``io.k8s.api.apps.v1.Deployment``)."""
    raw = json.loads((_schema_dir(strict=True) / "_definitions.json").read_text())
    return raw["$defs"]


def definition(name: str) -> Node:
    """Return one definition; KeyError if it does not exist."""
    return definitions()[name]


def resolve(node: Node | None) -> Node | None:
    """Follow ``$ref`` (possibly chained) to the referenced definition."""
    while node is not None and "$ref" in node:
        node = definitions().get(node["$ref"].rsplit("/", 1)[-1])
    return node


def field(node: Node | None, name: str) -> Node | None:
    """Return the (resolved) schema of property ``name`` of an object node, or None."""
    node = resolve(node)
    if node is None:
        return None
    props = node.get("properties")
    if props and name in props:
        return _merged(props[name])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return _merged(extra)
    return None


def items(node: Node | None) -> Node | None:
    """Return the (resolved) schema of the items of an array node, or None."""
    node = resolve(node)
    if node is None or "items" not in node:
        return None
    return _merged(node["items"])


def _merged(node: Node) -> Node:
    """Resolve a property node but keep its own list/patch annotations.

    Annotations such as ``x-kubernetes-patch-merge-key`` sit on the property, next to the
    ``$ref`` or ``items``; the referenced definition holds the structure.
    """
    if "$ref" not in node:
        return node
    target = resolve(node) or {}
    merged = dict(target)
    for key, value in node.items():
        if key != "$ref":
            merged[key] = value
    return merged


def is_type(node: Node | None, name: str) -> bool:
    """Tell whether a node's JSON type includes ``name`` ("object", "array", ...)."""
    node = resolve(node)
    if node is None:
        return False
    t = node.get("type")
    return t == name or (isinstance(t, list) and name in t)


def patch_strategy(node: Node | None) -> list[str]:
    """Return the strategic-merge strategies of a node ("merge", "retainKeys", ...)."""
    if node is None:
        return []
    raw = node.get("x-kubernetes-patch-strategy", "")
    return [s for s in raw.split(",") if s]


def patch_merge_key(node: Node | None) -> str | None:
    """Return the strategic-merge key of a list node, if it has one."""
    return None if node is None else node.get("x-kubernetes-patch-merge-key")


def list_type(node: Node | None) -> str | None:
    """Return the server-side-apply list type: "atomic", "set", "map" or None."""
    return None if node is None else node.get("x-kubernetes-list-type")


def list_map_keys(node: Node | None) -> list[str]:
    """Return the keys identifying items of a ``x-kubernetes-list-type: map`` list."""
    return [] if node is None else list(node.get("x-kubernetes-list-map-keys", []))


def map_type(node: Node | None) -> str | None:
    """Return ``x-kubernetes-map-type`` ("atomic" or "granular") of an object node."""
    node = resolve(node)
    return None if node is None else node.get("x-kubernetes-map-type")
