"""The table of served resources, read from ``resources.yaml``.

Mirrors the role of kube-apiserver's storage map (``pkg/registry/*/rest``): every REST
route, discovery entry, OpenAPI path and validation rule is derived from one entry here.
Adding a built-in resource is one line of YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One served resource: a (group, version, plural) with its kind and schema."""

    group: str
    version: str
    resource: str
    kind: str
    singular: str
    namespaced: bool
    definition: str
    shortNames: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def key(self) -> tuple[str, str]:
        """Return the storage key prefix: (group, resource)."""
        return (self.group, self.resource)


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str
    resources: tuple[Resource, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@cache
def resources() -> tuple[Resource, ...]:
    """Return every served resource, in declaration order."""
    raw = yaml.safe_load((Path(__file__).parent / "resources.yaml").read_text())
    out = []
    for entry in raw:
        for key in ("shortNames", "categories", "subresources"):
            entry[key] = tuple(entry.get(key, ()))
        out.append(Resource(**entry))
    return tuple(out)


@cache
def group_versions() -> tuple[GroupVersion, ...]:
    """Return the served group-versions, core ("v1") first, in declaration order."""
    order: dict[tuple[str, str], list[Resource]] = {}
    for res in resources():
        order.setdefault((res.group, res.version), []).append(res)
    return tuple(GroupVersion(g, v, tuple(rs)) for (g, v), rs in order.items())


@cache
def lookup(group: str, version: str, resource: str) -> Resource | None:
    """Find a resource by group, version and plural name."""
    for res in resources():
        if (res.group, res.version, res.resource) == (group, version, resource):
            return res
    return None


@cache
def by_kind(api_version: str, kind: str) -> Resource | None:
    """Find a resource by apiVersion and kind."""
    for res in resources():
        if res.api_version == api_version and res.kind == kind:
            return res
    return None
