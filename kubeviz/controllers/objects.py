"""Reading the parts of an API object, the way every controller does.

Objects are plain dicts in Kubernetes JSON form; an absent part reads as an empty mapping,
as a zero-valued Go struct would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``metadata`` (empty when absent)."""
    return obj.get("metadata") or {}


def spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``spec`` (empty when absent)."""
    return obj.get("spec") or {}


def status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``status`` (empty when absent)."""
    return obj.get("status") or {}


def new_controller_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ownerReference a controller puts on what it creates."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta(owner)["name"],
        "uid": meta(owner)["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
