"""Lister: read an informer's cache by namespace, name and labels, never asking the apiserver.

Mirrors client-go's generated listers (``listers/<group>/<version>``) over ``cache.Indexer``:
``get(namespace, name)`` and ``list(namespace, selector)``.

Contract:

* Reads are from memory and thread-safe; they reflect the informer's cache at the moment of
  the call, which may lag the apiserver.  A ``sync(key)`` that finds nothing treats the object
  as deleted; that is the level-based way.
* Returned objects are shared with the cache: treat them as read-only and copy before
  changing.  Lists are sorted by key, so callers see a stable order.
* ``selector`` is a ``labels.Selector``, a query string (``"app=web,tier!=db"``) or a
  structured ``LabelSelector`` mapping (``{"matchLabels": {...}}``); ``None`` selects
  everything.  ``namespace=None`` lists across namespaces; for cluster-scoped resources pass
  ``None`` (or ``""``) as the namespace to ``get``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeviz.client.informer import Informer
from kubeviz.client.labels import Selector, as_selector

Obj = dict[str, Any]


class Lister:
    """Look objects up in one informer's cache."""

    def __init__(self, informer: Informer) -> None:
        self.informer = informer

    def get(self, namespace: str | None, name: str) -> Obj | None:
        """Return the cached object, or None if the cache has no such object."""
        return self.informer.get(f"{namespace}/{name}" if namespace else name)

    def get_by_key(self, key: str) -> Obj | None:
        """Return the cached object with a ``namespace/name`` key, or None."""
        return self.informer.get(key)

    def list(
        self,
        namespace: str | None = None,
        selector: Selector | str | Mapping[str, Any] | None = None,
    ) -> list[Obj]:
        """Return the cached objects in a namespace (or all) whose labels match ``selector``."""
        match = as_selector(selector)
        items = self.informer.items(namespace)
        if match.empty():
            return items
        return [obj for obj in items if match.matches_object(obj)]
