"""Keys, events and errors shared by the store's reads, writes and watches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Key:
    """The identity of one stored object, as etcd's ``/registry/<group>/<resource>/<ns>/<name>``."""

    group: str
    resource: str
    namespace: str
    name: str


@dataclass
class Event:
    """One committed write, as a watcher sees it.

    ``prev`` is the object before the write (None for ADDED) when the writer knew it; a
    watcher with a label or field selector needs it to turn a change of match into
    ADDED or DELETED, as the apiserver's watch cache does.
    """

    revision: int
    type: str
    group: str
    resource: str
    namespace: str
    name: str
    object: dict[str, Any]
    prev: dict[str, Any] | None = field(default=None)

    def to_message(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "type": self.type,
            "group": self.group,
            "resource": self.resource,
            "namespace": self.namespace,
            "name": self.name,
            "object": self.object,
            "prev": self.prev,
        }

    @classmethod
    def from_message(cls, msg: dict[str, Any]) -> Event:
        return cls(**msg)


class StoreError(Exception):
    """Base of the store's failures; the apiserver turns each into a Kubernetes Status."""


class KeyExists(StoreError):
    """A create found the key already present."""


class KeyNotFound(StoreError):
    """The key is not present."""


class RevisionMismatch(StoreError):
    """A compare-and-swap found a different ``mod_revision`` (or uid) than expected."""


class Compacted(StoreError):
    """The requested revision is older than the compaction point."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(
            f"requested revision {requested} has been compacted (oldest kept is {compacted + 1})"
        )
        self.requested = requested
        self.compacted = compacted


class ClusterNotFound(StoreError):
    """No cluster by that name or id."""
