"""Discovery documents: ``/version``, ``/api``, ``/apis`` and each group-version.

Mirrors ``k8s.io/apiserver/pkg/endpoints/discovery``, in both forms: the legacy one (a
group list, then one request per group-version) and the aggregated one
(``apidiscovery.k8s.io/v2``: every resource of ``/api`` or ``/apis`` in one answer), which
clients ask for first with ``Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``.  Everything is derived from the
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


AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Tell whether a client's Accept header asks for aggregated discovery (v2)."""
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("v") == "v2"
            and params.get("as") == "APIGroupDiscoveryList"
        ):
            return True
    return False


def _resource_discovery(res: Resource) -> Obj:
    entry: Obj = {
        "resource": res.resource,
        "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(VERBS),
    }
    if res.shortNames:
        entry["shortNames"] = list(res.shortNames)
    if res.categories:
        entry["categories"] = list(res.categories)
    subs = []
    for sub in res.subresources:
        kind = _SUBRESOURCE_KIND.get(sub, res.kind)
        group, version = ("autoscaling", "v1") if sub == "scale" else (res.group, res.version)
        subs.append(
            {
                "subresource": sub,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": _SUBRESOURCE_VERBS[sub],
            }
        )
    if subs:
        entry["subresources"] = subs
    return entry


@cache
def aggregated(*, core: bool) -> Obj:
    """Return the aggregated discovery of ``/api`` (core) or ``/apis`` (every named group)."""
    groups: dict[str, list[Obj]] = {}
    for gv in group_versions():
        if (gv.group == "") != core:
            continue
        groups.setdefault(gv.group, []).append(
            {
                "version": gv.version,
                "resources": [_resource_discovery(r) for r in gv.resources],
                "freshness": "Current",
            }
        )
    items = [
        {"metadata": {"name": name} if name else {}, "versions": versions}
        for name, versions in groups.items()
    ]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
