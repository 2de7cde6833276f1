"""Turn a request path into what it asks for, as kube-apiserver's ``RequestInfoFactory`` does.

Paths are relative to a cluster's prefix (``/k8s/<cluster>``):

* ``/api/v1/namespaces/{ns}/pods/{name}/status`` → resource request (verb from the method);
* ``/api/v1/watch/...`` → the legacy watch form;
* ``/api``, ``/apis/apps/v1``, ``/version``, ``/openapi/...`` → non-resource requests.
"""

from __future__ import annotations

from dataclasses import dataclass

# Subresources of a namespace that are not namespaced resource names.
_NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@dataclass(frozen=True)
class RequestInfo:
    is_resource: bool
    path: str
    verb: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def parse(path: str, method: str, *, watch_param: bool) -> RequestInfo:
    """Parse ``path`` (without the cluster prefix) and the HTTP method."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(False, "/" + "/".join(parts))
    if parts[0] == "api":
        if len(parts) < 3:
            return RequestInfo(False, "/" + "/".join(parts))
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:
            return RequestInfo(False, "/" + "/".join(parts))
        group, version, rest = parts[1], parts[2], parts[3:]

    verb = {
        "GET": "get",
        "HEAD": "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(method.upper(), method.lower())
    if rest[0] == "watch":
        verb, rest = "watch", rest[1:]
        if not rest:
            return RequestInfo(False, "/" + "/".join(parts))

    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if resource == "namespaces" and not name and namespace:
        name = namespace
    if resource == "namespaces":
        namespace = ""
    if len(rest) > 3:
        return RequestInfo(False, "/" + "/".join(parts))

    if not name:
        if verb == "get":
            verb = "watch" if watch_param else "list"
        elif verb == "delete":
            verb = "deletecollection"
    elif verb == "get" and watch_param:
        verb = "watch"
    return RequestInfo(
        True,
        "/" + "/".join(parts),
        verb=verb,
        group=group,
        version=version,
        resource=resource,
        namespace=namespace,
        name=name,
        subresource=subresource,
    )
