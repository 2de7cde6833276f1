"""JSON merge patch (RFC 7386), the ``application/merge-patch+json`` patch type.

Contract: objects in the patch are merged key by key into the original, a ``null`` value
deletes the key, and every other value (arrays included) replaces what was there.  A
patch that is not an object replaces the whole document.  The inputs are never mutated.

This is what the Kubernetes apiserver does for merge patches (through the
``evanphx/json-patch`` library); it knows nothing about list merge keys, which is why
kubectl prefers strategic merge patch for built-in types.
"""

from __future__ import annotations

import copy
from typing import Any


def json_merge_patch(original: Any, patch: Any) -> Any:
    """Return ``original`` with ``patch`` merged in, leaving both arguments untouched."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    target = copy.deepcopy(original) if isinstance(original, dict) else {}
    _merge_into(target, patch)
    return target


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Merge ``patch`` into the (already copied) ``target`` in place, so copying happens once."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = {}
            _merge_into(current, value)
            target[key] = current
        else:
            target[key] = copy.deepcopy(value)
