"""Discovery documents: ``/version``, ``/api``, ``/apis`` and each group-version.

Mirrors ``k8s.io/apiserver/pkg/endpoints/discovery``.  Everything is derived from the
resource table, so a resource that is served is also discoverable, with its short
names, categories, verbs and subresources (``kubectl api-resources`` prints these).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from django.conf import settings

from kubeviz.apiserver.registry import VERBS, Resource, group_versions

Obj = dict[str, Any]

_SUBRESOURCE_KIND = {"binding": "Binding", "scale": "Scale"}
_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "binding": ["create"],
    "log": ["get"],
    "finalize": ["update"],
}


def version() -> Obj:
    """Return the ``/version`` document."""
    git = settings.KUBEVIZ_KUBERNETES_VERSION
    major, minor = git.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": git,
        "gitCommit": "kubeviz",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str) -> Obj:
    versions = [
        {"groupVersion": f"{gv.group}/{gv.version}", "version": gv.version}
        for gv in group_versions()
        if gv.group == name
    ]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> Obj:
    names = []
    for gv in group_versions():
        if gv.group and gv.group not in names:
            names.append(gv.group)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(n) for n in names]}


def api_group(name: str) -> Obj | None:
    if not any(gv.group == name for gv in group_versions() if gv.group):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def _storage_hash(res: Resource) -> str:
    raw = f"{res.group}/{res.version}/{res.kind}".encode()
    return hashlib.sha256(raw).hexdigest()[:12]


def _entries(res: Resource) -> list[Obj]:
    main: Obj = {
        "name": res.resource,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(VERBS),
        "storageVersionHash": _storage_hash(res),
    }
    if res.shortNames:
        main["shortNames"] = list(res.shortNames)
    if res.categories:
        main["categories"] = list(res.categories)
    out = [main]
    for sub in res.subresources:
        entry: Obj = {
            "name": f"{res.resource}/{sub}",
            "singularName": "",
            "namespaced": res.namespaced,
            "kind": _SUBRESOURCE_KIND.get(sub, res.kind),
            "verbs": _SUBRESOURCE_VERBS[sub],
        }
        if sub == "scale":
            entry.update(group="autoscaling", version="v1")
        out.append(entry)
    return out


@cache
def api_resource_list(group: str, version: str) -> Obj | None:
    for gv in group_versions():
        if (gv.group, gv.version) == (group, version):
            return {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": gv.name,
                "resources": [e for res in gv.resources for e in _entries(res)],
            }
    return None
