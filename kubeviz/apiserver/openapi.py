"""OpenAPI documents for the served API, built from the Kubernetes v1.36 definitions.

Contract:

* ``openapi_v3_index(prefix=...)`` is the body of ``GET /openapi/v3``: one entry per served
  group-version, each pointing at its document with a ``hash`` query parameter that changes
  whenever the document does (clients use it as a cache key).
* ``openapi_v3_document(group, version)`` is the body of ``GET /openapi/v3/apis/<g>/<v>``
  (or ``/openapi/v3/api/v1``): OpenAPI 3.0 with every REST path the group-version serves and
  the schemas those paths reach; None for a group-version that is not served.
* ``openapi_v2_document()`` is the body of ``GET /openapi/v2``: Swagger 2.0 with all paths
  and definitions.

The documents mirror what kube-apiserver publishes (``k8s.io/kube-openapi`` builders fed by
``pkg/generated/openapi``): the same path layout, ``operationId`` names, query parameters,
``x-kubernetes-action`` and ``x-kubernetes-group-version-kind`` extensions, and the same
schema conventions.  Clients depend on them: kubectl decides that the server validates
fields itself when the PATCH operation of a kind lists a ``fieldValidation`` query
parameter, ``kubectl explain`` finds a kind's schema through the
``x-kubernetes-group-version-kind`` of its definition, and client-side apply reads the
``x-kubernetes-patch-*`` extensions.

No schema is written by hand: every definition is converted from the JSON Schema in
``kubeviz.apiserver.schema`` (nullable ``type`` lists become a single type; ``$ref`` targets
move to ``#/components/schemas`` or ``#/definitions``, wrapped in ``allOf`` in OpenAPI 3 when
they carry a description; IntOrString and Quantity take the forms upstream publishes, a
``oneOf`` of integer/number and string in OpenAPI 3 and a plain string in Swagger 2, with
``format: int-or-string`` on IntOrString) and only definitions reachable from the served
paths, plus Status, DeleteOptions, Patch, WatchEvent and autoscaling/v1 Scale, are included.  Documents are built once per process and cached; treat the
returned dicts as read-only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kubeviz.apiserver import schema as k8s_schema
from kubeviz.apiserver.registry import GroupVersion, Resource, group_versions

__all__ = [
    "openapi_v2_document",
    "openapi_v2_document_bytes",
    "openapi_v3_document",
    "openapi_v3_document_bytes",
    "openapi_v3_hash",
    "openapi_v3_index",
]

TITLE = "Kubernetes"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = _META + "Status"
DELETE_OPTIONS = _META + "DeleteOptions"
PATCH = _META + "Patch"
WATCH_EVENT = _META + "WatchEvent"
API_RESOURCE_LIST = _META + "APIResourceList"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
BINDING = "io.k8s.api.core.v1.Binding"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Always published, whatever the paths reach (clients look them up by name).
EXTRA_DEFINITIONS = (STATUS, DELETE_OPTIONS, PATCH, WATCH_EVENT, SCALE)

PATCH_CONTENT_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_PRODUCES = ("application/json", "application/yaml")
_PRODUCES_STREAM = (*_PRODUCES, "application/json;stream=watch")
_PRODUCES_TEXT = ("text/plain", *_PRODUCES)
# Deleting these kinds answers with the object rather than a Status, as upstream documents.
_DELETE_RETURNS_OBJECT = {("", "pods"), ("", "services")}

# name -> (JSON type, description).  Descriptions are ours, summarising the upstream meaning.
_QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": (
        "boolean",
        "Ask a watch to send BOOKMARK events carrying only a resourceVersion; servers may ignore it.",
    ),
    "continue": ("string", "The continue token of the previous page of a paginated list."),
    "fieldSelector": ("string", "Restrict the returned objects by their fields. Defaults to everything."),
    "labelSelector": ("string", "Restrict the returned objects by their labels. Defaults to everything."),
    "limit": (
        "integer",
        "The most items a list response may hold; the rest is fetched with the returned continue token.",
    ),
    "resourceVersion": (
        "string",
        "Which version of the data a list or watch may be served from. Defaults to the latest.",
    ),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    "sendInitialEvents": (
        "boolean",
        "With watch=true, start the watch with synthetic ADDED events for the current objects, then a bookmark.",
    ),
    "timeoutSeconds": ("integer", "How long a list or watch call may last, in seconds."),
    "watch": ("boolean", "Stream add, update and delete notifications instead of returning a list."),
    "dryRun": (
        "string",
        "When present (the only valid value is All), run the request without persisting it.",
    ),
    "fieldManager": (
        "string",
        "The name of the actor making the change, recorded in managedFields. At most 128 printable characters.",
    ),
    "fieldValidation": (
        "string",
        "What the server does with unknown or duplicate fields in the body: Ignore drops them, Warn drops them "
        "and returns a warning for each, Strict fails the request. Defaults to Warn.",
    ),
    "force": (
        "boolean",
        "Take ownership of fields other managers own when applying. Only for apply patches.",
    ),
    "gracePeriodSeconds": (
        "integer",
        "Seconds to wait before the object is deleted; 0 deletes at once. Defaults per kind.",
    ),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "Delete an object even if it cannot be read back from storage (it may be corrupt). Dangerous.",
    ),
    "orphanDependents": ("boolean", "Deprecated, use propagationPolicy: whether dependents are orphaned."),
    "propagationPolicy": (
        "string",
        "How dependents are garbage collected: Orphan, Background or Foreground.",
    ),
    "pretty": ("string", "If 'true', indent the output."),
    "container": (
        "string",
        "The container to read the log of; may be omitted when the pod has one container.",
    ),
    "follow": ("boolean", "Keep streaming the log as it grows."),
    "insecureSkipTLSVerifyBackend": (
        "boolean",
        "Do not verify the kubelet's serving certificate when fetching the log.",
    ),
    "limitBytes": ("integer", "Stop after this many bytes of log."),
    "previous": ("boolean", "Return the log of the previous, terminated instance of the container."),
    "sinceSeconds": ("integer", "Only return log lines newer than this many seconds."),
    "stream": ("string", "Which stream to return: All, Stdout or Stderr. Defaults to All."),
    "tailLines": ("integer", "Only return this many lines from the end of the log."),
    "timestamps": ("boolean", "Prefix every log line with its RFC 3339 timestamp."),
}
_LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_PATCH_PARAMS = (*_WRITE_PARAMS, "force")
_DELETE_PARAMS = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
_DELETE_COLLECTION_PARAMS = (
    "continue",
    "dryRun",
    "fieldSelector",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector",
    "limit",
    "orphanDependents",
    "propagationPolicy",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
)
_LOG_PARAMS = (
    "container",
    "follow",
    "insecureSkipTLSVerifyBackend",
    "limitBytes",
    "previous",
    "sinceSeconds",
    "stream",
    "tailLines",
    "timestamps",
)


# --- schema conversion ------------------------------------------------------------------


def _ref_prefix(v3: bool) -> str:
    return "#/components/schemas/" if v3 else "#/definitions/"


def _convert(node: Any, *, v3: bool) -> Any:
    """Turn one JSON-Schema node of the definitions file back into OpenAPI."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = {"$ref": _ref_prefix(v3) + node["$ref"].rsplit("/", 1)[-1]}
        siblings = {k: _convert(v, v3=v3) for k, v in node.items() if k != "$ref"}
        if not siblings:
            return target
        # OpenAPI 3.0 ignores a $ref's siblings, so upstream wraps the ref in allOf to keep
        # the description; Swagger 2.0 documents keep them side by side.
        return {"allOf": [target], **siblings} if v3 else {**target, **siblings}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
        elif key == "properties":
            out["properties"] = {name: _convert_property(name, sub, v3=v3) for name, sub in value.items()}
        elif key in ("items", "not"):
            out[key] = _convert(value, v3=v3)
        elif key == "additionalProperties":
            # ``false`` closes a struct in the JSON Schema file; upstream OpenAPI leaves structs
            # open, so only the value schemas of maps are kept.
            if isinstance(value, dict):
                out[key] = _convert(value, v3=v3)
            elif value is True:
                out[key] = True
        elif key in ("oneOf", "anyOf", "allOf"):
            out[key] = [_convert(alt, v3=v3) for alt in value]
        else:
            out[key] = value
    return out


def _convert_property(name: str, node: Any, *, v3: bool) -> Any:
    converted = _convert(node, v3=v3)
    if name in ("apiVersion", "kind") and isinstance(converted, dict):
        # The definitions file pins these with an enum; upstream leaves them free.
        converted.pop("enum", None)
    return converted


def _convert_definition(name: str, *, v3: bool) -> dict[str, Any]:
    node = k8s_schema.definition(name)
    if name == INT_OR_STRING:
        # Upstream: a oneOf in OpenAPI 3 (kubectl explain then shows <IntOrString>), a string
        # with format int-or-string in Swagger 2, which has no oneOf.
        out: dict[str, Any] = {
            "description": "IntOrString holds either an int32 or a string; JSON carries it as a number or a string.",
            "format": "int-or-string",
            "x-kubernetes-int-or-string": True,
        }
        if v3:
            out["oneOf"] = [{"type": "integer"}, {"type": "string"}]
        else:
            out["type"] = "string"
        return out
    if name == QUANTITY:
        out = {
            "description": (
                "Quantity is a fixed-point number with an optional unit suffix (binary Ki, Mi, Gi ..., "
                "decimal k, M, G ..., or an exponent), written as a string such as '500m' or '1Gi'."
            ),
        }
        if v3:
            out["oneOf"] = [{"type": "string"}, {"type": "number"}]
        else:
            out["type"] = "string"
        return out
    return _convert(node, v3=v3)


def _refs_in(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs_in(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs_in(value, out)


def _closure(roots: set[str]) -> list[str]:
    """Return ``roots`` and every definition they reach through ``$ref``, sorted."""
    defs = k8s_schema.definitions()
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs_in(defs[name], found)
        todo.extend(n for n in found if n in defs and n not in seen)
    return sorted(seen)


def _schemas(names: list[str], *, v3: bool) -> dict[str, Any]:
    return {name: _convert_definition(name, v3=v3) for name in names}


# --- the operations, independent of the OpenAPI version ---------------------------------


@dataclass
class _Op:
    """One operation on one path, before rendering as OpenAPI 3 or Swagger 2."""

    method: str
    operation_id: str
    description: str
    action: str
    tag: str
    gvk: dict[str, str] | None
    params: tuple[str, ...] = ()
    body: str | None = None
    body_kind: str = "object"  # "object" | "patch" | "delete"
    responses: dict[str, str] = field(default_factory=dict)  # code -> definition ("" = a string)
    produces: tuple[str, ...] = _PRODUCES


@dataclass
class _PathItem:
    path: str
    path_params: tuple[tuple[str, str], ...]  # (name, description)
    ops: list[_Op] = field(default_factory=list)


def _camel_group(group: str) -> str:
    if not group:
        return "Core"
    trimmed = group.removesuffix(".k8s.io")
    return "".join(part[:1].upper() + part[1:] for part in trimmed.replace("-", ".").split("."))


def _gv_camel(gv: GroupVersion) -> str:
    return _camel_group(gv.group) + gv.version[:1].upper() + gv.version[1:]


def _tag(gv: GroupVersion) -> str:
    camel = _camel_group(gv.group)
    return f"{camel[:1].lower()}{camel[1:]}_{gv.version}"


def _gv_prefix(gv: GroupVersion) -> str:
    return f"/apis/{gv.group}/{gv.version}" if gv.group else f"/api/{gv.version}"


def _list_definition(res: Resource) -> str | None:
    name = res.definition + "List"
    return name if name in k8s_schema.definitions() else None


@dataclass
class _Ops:
    """Make the operations of one resource, named and tagged the way upstream names them."""

    res: Resource
    tag: str
    camel: str

    @property
    def gvk(self) -> dict[str, str]:
        return {"group": self.res.group, "version": self.res.version, "kind": self.res.kind}

    def make(
        self, method: str, verb: str, description: str, action: str, *, suffix: str = "", **kw: Any
    ) -> _Op:
        """Return ``<verb><GroupVersion>[Namespaced]<Kind><suffix>`` for this resource."""
        scope = "Namespaced" if self.res.namespaced else ""
        gvk = kw.pop("gvk", self.gvk)
        return _Op(
            method,
            f"{verb}{self.camel}{scope}{self.res.kind}{suffix}",
            description,
            action,
            self.tag,
            gvk,
            **kw,
        )

    def make_unscoped(self, method: str, operation_id: str, description: str, action: str, **kw: Any) -> _Op:
        """Return an operation whose id does not follow the resource's scope."""
        return _Op(method, operation_id, description, action, self.tag, self.gvk, **kw)


_WATCH_DEPRECATED = "deprecated: use the 'watch' parameter with a list operation instead"


def _gv_paths(gv: GroupVersion) -> list[_PathItem]:
    """Return every path the group-version serves, as kube-apiserver lays them out."""
    tag, camel, prefix = _tag(gv), _gv_camel(gv), _gv_prefix(gv)
    pretty = ("pretty", _QUERY_PARAMS["pretty"][1])
    root = _Op("get", f"get{camel}APIResources", "get available resources", "", tag, None)
    root.responses = {"200": API_RESOURCE_LIST}
    items: list[_PathItem] = [_PathItem(f"{prefix}/", (), [root])]
    for res in gv.resources:
        items.extend(_resource_paths(res, _Ops(res, tag, camel), prefix=prefix, pretty=pretty))
    return items


def _resource_paths(res: Resource, ops: _Ops, *, prefix: str, pretty: tuple[str, str]) -> list[_PathItem]:
    """Return the collection, item, subresource, all-namespaces and watch paths of a resource."""
    kind, obj, plural = res.kind, res.definition, res.resource
    ns_param = ("namespace", "object name and auth scope, such as for teams and projects")
    name_param = ("name", f"name of the {kind}")
    scope_params: tuple[tuple[str, str], ...] = (ns_param,) if res.namespaced else ()
    base = f"{prefix}/namespaces/{{namespace}}/{plural}" if res.namespaced else f"{prefix}/{plural}"
    watch_base = (
        f"{prefix}/watch/namespaces/{{namespace}}/{plural}" if res.namespaced else f"{prefix}/watch/{plural}"
    )
    list_def = _list_definition(res)
    deleted = obj if (res.group, plural) in _DELETE_RETURNS_OBJECT else STATUS
    scope = "Namespaced" if res.namespaced else ""
    items: list[_PathItem] = []

    collection = _PathItem(base, (*scope_params, pretty))
    if list_def:
        collection.ops.append(
            ops.make(
                "get",
                "list",
                f"list or watch objects of kind {kind}",
                "list",
                params=_LIST_PARAMS,
                responses={"200": list_def},
                produces=_PRODUCES_STREAM,
            )
        )
    collection.ops += [
        ops.make(
            "post",
            "create",
            f"create a {kind}",
            "post",
            params=_WRITE_PARAMS,
            body=obj,
            responses={"200": obj, "201": obj, "202": obj},
        ),
        ops.make_unscoped(
            "delete",
            f"delete{ops.camel}Collection{scope}{kind}",
            f"delete collection of {kind}",
            "deletecollection",
            params=_DELETE_COLLECTION_PARAMS,
            body=DELETE_OPTIONS,
            body_kind="delete",
            responses={"200": STATUS},
        ),
    ]
    items.append(collection)

    item = _PathItem(f"{base}/{{name}}", (name_param, *scope_params, pretty))
    item.ops += [
        ops.make("get", "read", f"read the specified {kind}", "get", responses={"200": obj}),
        ops.make(
            "put",
            "replace",
            f"replace the specified {kind}",
            "put",
            params=_WRITE_PARAMS,
            body=obj,
            responses={"200": obj, "201": obj},
        ),
        ops.make(
            "delete",
            "delete",
            f"delete a {kind}",
            "delete",
            params=_DELETE_PARAMS,
            body=DELETE_OPTIONS,
            body_kind="delete",
            responses={"200": deleted, "202": deleted},
        ),
        ops.make(
            "patch",
            "patch",
            f"partially update the specified {kind}",
            "patch",
            params=_PATCH_PARAMS,
            body=PATCH,
            body_kind="patch",
            responses={"200": obj, "201": obj},
        ),
    ]
    items.append(item)
    for sub in res.subresources:
        items.extend(_subresource_paths(sub, res, item=item, ops=ops))

    if res.namespaced and list_def:
        all_ns = _PathItem(f"{prefix}/{plural}", (pretty,))
        all_ns.ops.append(
            ops.make_unscoped(
                "get",
                f"list{ops.camel}{kind}ForAllNamespaces",
                f"list or watch objects of kind {kind}",
                "list",
                params=_LIST_PARAMS,
                responses={"200": list_def},
                produces=_PRODUCES_STREAM,
            )
        )
        items.append(all_ns)

    # The legacy /watch/ paths: still served, and still published, by kube-apiserver.
    watch = {"params": _LIST_PARAMS, "responses": {"200": WATCH_EVENT}, "produces": _PRODUCES_STREAM}
    watch_list = _PathItem(watch_base, (*scope_params, pretty))
    watch_list.ops.append(
        ops.make(
            "get",
            "watch",
            f"watch individual changes to a list of {kind}. {_WATCH_DEPRECATED}.",
            "watchlist",
            suffix="List",
            **watch,
        )
    )
    watch_one = _PathItem(f"{watch_base}/{{name}}", (name_param, *scope_params, pretty))
    watch_one.ops.append(
        ops.make(
            "get",
            "watch",
            f"watch changes to an object of kind {kind}. {_WATCH_DEPRECATED}, "
            "filtered to a single item with the 'fieldSelector' parameter.",
            "watch",
            **watch,
        )
    )
    items += [watch_list, watch_one]
    if res.namespaced:
        watch_all = _PathItem(f"{prefix}/watch/{plural}", (pretty,))
        watch_all.ops.append(
            ops.make_unscoped(
                "get",
                f"watch{ops.camel}{kind}ListForAllNamespaces",
                f"watch individual changes to a list of {kind}. {_WATCH_DEPRECATED}.",
                "watchlist",
                **watch,
            )
        )
        items.append(watch_all)
    return items


def _subresource_paths(sub: str, res: Resource, *, item: _PathItem, ops: _Ops) -> list[_PathItem]:
    """Return the path of one subresource (status, scale, binding, log, finalize)."""
    kind, obj = res.kind, res.definition
    path = _PathItem(f"{item.path}/{sub}", item.path_params)
    if sub == "status":
        path.ops += [
            ops.make(
                "get",
                "read",
                f"read status of the specified {kind}",
                "get",
                suffix="Status",
                responses={"200": obj},
            ),
            ops.make(
                "put",
                "replace",
                f"replace status of the specified {kind}",
                "put",
                suffix="Status",
                params=_WRITE_PARAMS,
                body=obj,
                responses={"200": obj, "201": obj},
            ),
            ops.make(
                "patch",
                "patch",
                f"partially update status of the specified {kind}",
                "patch",
                suffix="Status",
                params=_PATCH_PARAMS,
                body=PATCH,
                body_kind="patch",
                responses={"200": obj, "201": obj},
            ),
        ]
    elif sub == "scale":
        scale_gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        path.ops += [
            ops.make(
                "get",
                "read",
                f"read scale of the specified {kind}",
                "get",
                suffix="Scale",
                gvk=scale_gvk,
                responses={"200": SCALE},
            ),
            ops.make(
                "put",
                "replace",
                f"replace scale of the specified {kind}",
                "put",
                suffix="Scale",
                gvk=scale_gvk,
                params=_WRITE_PARAMS,
                body=SCALE,
                responses={"200": SCALE, "201": SCALE},
            ),
            ops.make(
                "patch",
                "patch",
                f"partially update scale of the specified {kind}",
                "patch",
                suffix="Scale",
                gvk=scale_gvk,
                params=_PATCH_PARAMS,
                body=PATCH,
                body_kind="patch",
                responses={"200": SCALE, "201": SCALE},
            ),
        ]
    elif sub == "binding":
        path.path_params = (("name", "name of the Binding"), *item.path_params[1:])
        binding_gvk = {"group": "", "version": "v1", "kind": "Binding"}
        path.ops.append(
            ops.make(
                "post",
                "create",
                f"create binding of a {kind}",
                "post",
                suffix="Binding",
                gvk=binding_gvk,
                params=_WRITE_PARAMS,
                body=BINDING,
                responses={"200": BINDING, "201": BINDING, "202": BINDING},
            )
        )
    elif sub == "log":
        path.ops.append(
            ops.make(
                "get",
                "read",
                f"read log of the specified {kind}",
                "get",
                suffix="Log",
                params=_LOG_PARAMS,
                responses={"200": ""},
                produces=_PRODUCES_TEXT,
            )
        )
    elif sub == "finalize":
        path.ops.append(
            ops.make(
                "put",
                "replace",
                f"replace finalize of the specified {kind}",
                "put",
                suffix="Finalize",
                params=_WRITE_PARAMS,
                body=obj,
                responses={"200": obj, "201": obj},
            )
        )
    else:
        return []
    return [path]


def _referenced(items: list[_PathItem]) -> set[str]:
    names = set()
    for item in items:
        for op in item.ops:
            if op.body:
                names.add(op.body)
            names.update(d for d in op.responses.values() if d)
    return names


# --- rendering ----------------------------------------------------------------------------

_RESPONSE_TEXT = {"200": "OK", "201": "Created", "202": "Accepted"}


def _param_v3(name: str, *, where: str = "query", description: str | None = None) -> dict[str, Any]:
    kind, text = _QUERY_PARAMS.get(name, ("string", ""))
    param: dict[str, Any] = {"name": name, "in": where, "description": description or text}
    if where == "path":
        param["required"] = True
        kind = "string"
    param["schema"] = {"type": kind, "uniqueItems": True}
    return param


def _param_v2(name: str, *, where: str = "query", description: str | None = None) -> dict[str, Any]:
    kind, text = _QUERY_PARAMS.get(name, ("string", ""))
    param: dict[str, Any] = {"name": name, "in": where, "description": description or text}
    if where == "path":
        param["required"] = True
        kind = "string"
    param["type"] = kind
    param["uniqueItems"] = True
    return param


def _path_params(item: _PathItem, render: Any) -> list[dict[str, Any]]:
    return [
        render(name, where="query" if name == "pretty" else "path", description=desc)
        for name, desc in item.path_params
    ]


def _schema_ref(definition: str, *, v3: bool) -> dict[str, Any]:
    return {"$ref": _ref_prefix(v3) + definition} if definition else {"type": "string"}


def _op_extensions(op: _Op, out: dict[str, Any]) -> None:
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk is not None:
        out["x-kubernetes-group-version-kind"] = dict(op.gvk)


def _render_v3_op(op: _Op) -> dict[str, Any]:
    out: dict[str, Any] = {"tags": [op.tag], "description": op.description, "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_param_v3(p) for p in op.params]
    if op.body:
        schema = _schema_ref(op.body, v3=True)
        types = PATCH_CONTENT_TYPES if op.body_kind == "patch" else ("*/*",)
        body: dict[str, Any] = {"content": {t: {"schema": schema} for t in types}}
        if op.body_kind != "delete":
            body["required"] = True
        out["requestBody"] = body
    responses: dict[str, Any] = {}
    for code, definition in op.responses.items():
        schema = _schema_ref(definition, v3=True)
        responses[code] = {
            "description": _RESPONSE_TEXT[code],
            "content": {t: {"schema": schema} for t in op.produces},
        }
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    _op_extensions(op, out)
    return out


def _render_v2_op(op: _Op) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": op.description,
        "consumes": list(PATCH_CONTENT_TYPES) if op.body_kind == "patch" else ["*/*"],
        "produces": list(op.produces),
        "schemes": ["https"],
        "tags": [op.tag],
        "operationId": op.operation_id,
    }
    params = []
    if op.body:
        body = {"name": "body", "in": "body", "schema": _schema_ref(op.body, v3=False)}
        if op.body_kind != "delete":
            body["required"] = True
        params.append(body)
    params += [_param_v2(p) for p in op.params]
    if params:
        out["parameters"] = params
    responses: dict[str, Any] = {
        code: {"description": _RESPONSE_TEXT[code], "schema": _schema_ref(definition, v3=False)}
        for code, definition in op.responses.items()
    }
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    _op_extensions(op, out)
    return out


def _render_paths(items: list[_PathItem], *, v3: bool) -> dict[str, Any]:
    render_op = _render_v3_op if v3 else _render_v2_op
    render_param = _param_v3 if v3 else _param_v2
    paths: dict[str, Any] = {}
    for item in items:
        entry: dict[str, Any] = {op.method: render_op(op) for op in item.ops}
        params = _path_params(item, render_param)
        if params:
            entry["parameters"] = params
        paths[item.path] = entry
    return paths


# --- the documents ------------------------------------------------------------------------


def _served(group: str, version: str) -> GroupVersion | None:
    for gv in group_versions():
        if gv.group == group and gv.version == version:
            return gv
    return None


def _index_key(gv: GroupVersion) -> str:
    return f"apis/{gv.group}/{gv.version}" if gv.group else f"api/{gv.version}"


@cache
def _v3_document(group: str, version: str) -> dict[str, Any] | None:
    gv = _served(group, version)
    if gv is None:
        return None
    items = _gv_paths(gv)
    names = _closure(_referenced(items) | set(EXTRA_DEFINITIONS))
    return {
        "openapi": "3.0.0",
        "info": {"title": TITLE, "version": k8s_schema.SCHEMA_VERSION},
        "paths": _render_paths(items, v3=True),
        "components": {
            "schemas": _schemas(names, v3=True),
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            },
        },
        "security": [{"BearerToken": []}],
    }


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@cache
def _v3_encoded(group: str, version: str) -> tuple[bytes, str] | None:
    doc = _v3_document(group, version)
    if doc is None:
        return None
    data = _encode(doc)
    return data, hashlib.sha512(data).hexdigest().upper()


def openapi_v3_document(group: str, version: str) -> dict[str, Any] | None:
    """Return the OpenAPI 3.0 document of a served group-version ("" for core), or None."""
    return _v3_document(group, version)


def openapi_v3_document_bytes(group: str, version: str) -> bytes | None:
    """Return the JSON encoding of :func:`openapi_v3_document` (cached), or None."""
    encoded = _v3_encoded(group, version)
    return None if encoded is None else encoded[0]


def openapi_v3_hash(group: str, version: str) -> str | None:
    """Return the uppercase hex SHA-512 of a group-version's document (an ETag), or None."""
    encoded = _v3_encoded(group, version)
    return None if encoded is None else encoded[1]


def openapi_v3_index(*, prefix: str) -> dict[str, Any]:
    """Return the ``/openapi/v3`` discovery document for a server rooted at ``prefix``.

    ``prefix`` is the path the cluster is served under ("" or e.g. "/k8s/demo").  client-go
    joins a URL that starts with ``/openapi/v3`` onto its own base path, and uses any other
    URL as given, so both an empty and a non-empty prefix resolve to the right place.
    """
    prefix = prefix.rstrip("/")
    paths = {}
    for gv in group_versions():
        key = _index_key(gv)
        paths[key] = {
            "serverRelativeURL": f"{prefix}/openapi/v3/{key}?hash={openapi_v3_hash(gv.group, gv.version)}"
        }
    return {"paths": paths}


@cache
def _v2_document() -> dict[str, Any]:
    items: list[_PathItem] = []
    for gv in group_versions():
        items.extend(_gv_paths(gv))
    names = _closure(_referenced(items) | set(EXTRA_DEFINITIONS))
    return {
        "swagger": "2.0",
        "info": {"title": TITLE, "version": k8s_schema.SCHEMA_VERSION},
        "paths": _render_paths(items, v3=False),
        "definitions": _schemas(names, v3=False),
        "securityDefinitions": {
            "BearerToken": {
                "type": "apiKey",
                "description": "Bearer Token authentication",
                "name": "authorization",
                "in": "header",
            }
        },
        "security": [{"BearerToken": []}],
    }


def openapi_v2_document() -> dict[str, Any]:
    """Return the Swagger 2.0 document of everything served."""
    return _v2_document()


@cache
def openapi_v2_document_bytes() -> bytes:
    """Return the JSON encoding of :func:`openapi_v2_document` (cached)."""
    return _encode(_v2_document())
