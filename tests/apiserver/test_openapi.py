"""OpenAPI v3 and v2 documents built from the definitions and the served resources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from kubeviz.apiserver.openapi import (
    PATCH_CONTENT_TYPES,
    openapi_v2_document,
    openapi_v3_document,
    openapi_v3_document_bytes,
    openapi_v3_hash,
    openapi_v3_index,
)
from kubeviz.apiserver.registry import GroupVersion, Resource, group_versions, resources

ACTIONS = {"get", "list", "post", "put", "patch", "delete", "deletecollection", "watch", "watchlist"}
METHODS = {"get", "put", "post", "delete", "patch"}


def gv_id(gv: GroupVersion) -> str:
    return gv.name


def gv_key(gv: GroupVersion) -> str:
    return f"apis/{gv.group}/{gv.version}" if gv.group else f"api/{gv.version}"


def prefix_of(res: Resource) -> str:
    return f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"


def item_path(res: Resource) -> str:
    if res.namespaced:
        return f"{prefix_of(res)}/namespaces/{{namespace}}/{res.resource}/{{name}}"
    return f"{prefix_of(res)}/{res.resource}/{{name}}"


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve_pointer(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved {ref}"
        node = node[part]
    return node


def v3(gv: GroupVersion) -> dict[str, Any]:
    doc = openapi_v3_document(gv.group, gv.version)
    assert doc is not None
    return doc


# --- index --------------------------------------------------------------------------------


def test_v3_index_lists_every_served_group_version_with_its_hash() -> None:
    index = openapi_v3_index(prefix="/k8s/demo")
    assert set(index["paths"]) == {gv_key(gv) for gv in group_versions()}
    for gv in group_versions():
        url = index["paths"][gv_key(gv)]["serverRelativeURL"]
        digest = openapi_v3_hash(gv.group, gv.version)
        assert digest is not None and re.fullmatch(r"[0-9A-F]{128}", digest)
        assert url == f"/k8s/demo/openapi/v3/{gv_key(gv)}?hash={digest}"


def test_v3_index_without_prefix_is_rooted_at_openapi_v3() -> None:
    # client-go joins such URLs onto its own base path.
    url = openapi_v3_index(prefix="")["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")


def test_hash_is_stable_and_differs_between_documents() -> None:
    assert openapi_v3_hash("apps", "v1") == openapi_v3_hash("apps", "v1")
    assert openapi_v3_hash("apps", "v1") != openapi_v3_hash("", "v1")
    assert openapi_v3_document_bytes("apps", "v1") is openapi_v3_document_bytes("apps", "v1")


def test_unserved_group_version_has_no_document() -> None:
    assert openapi_v3_document("apps", "v1beta1") is None
    assert openapi_v3_document("no.such.group", "v1") is None
    assert openapi_v3_hash("no.such.group", "v1") is None


def test_documents_are_built_once() -> None:
    assert openapi_v3_document("apps", "v1") is openapi_v3_document("apps", "v1")
    assert openapi_v2_document() is openapi_v2_document()


# --- what kubectl looks for ---------------------------------------------------------------


def _patch_ops_for(doc: dict[str, Any], group: str, version: str, kind: str) -> list[dict[str, Any]]:
    """Find PATCH operations for a GVK the way kubectl's query-param verifier does."""
    wanted = {"group": group, "version": version, "kind": kind}
    out = []
    for item in doc["paths"].values():
        op = item.get("patch")
        if op and op.get("x-kubernetes-group-version-kind") == wanted:
            out.append(op)
    return out


def test_deployment_patch_advertises_field_validation() -> None:
    doc = openapi_v3_document("apps", "v1")
    assert doc is not None
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert op["operationId"] == "patchAppsV1NamespacedDeployment"
    assert op["x-kubernetes-action"] == "patch"
    assert op["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= query
    assert set(op["requestBody"]["content"]) == set(PATCH_CONTENT_TYPES)
    assert op["requestBody"]["content"]["application/apply-patch+yaml"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    }


@pytest.mark.parametrize("res", resources(), ids=lambda r: f"{r.group or 'core'}/{r.resource}")
def test_every_served_kind_supports_field_validation(res: Resource) -> None:
    doc = openapi_v3_document(res.group, res.version)
    assert doc is not None
    ops = _patch_ops_for(doc, res.group, res.version, res.kind)
    # kubectl looks at whichever matching PATCH it meets first: all of them must qualify.
    assert ops
    for op in ops:
        assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in op["parameters"])


@pytest.mark.parametrize("gv", group_versions(), ids=gv_id)
def test_every_operation_is_fully_described(gv: GroupVersion) -> None:
    doc = v3(gv)
    assert doc["openapi"] == "3.0.0"
    assert doc["info"] == {"title": "Kubernetes", "version": "v1.36.0"}
    ids = []
    for path, method, op in operations(doc):
        ids.append(op["operationId"])
        if path.endswith(f"/{gv.version}/"):
            continue  # the group-version root (APIResourceList) has no kind
        assert op["x-kubernetes-action"] in ACTIONS, (path, method)
        gvk = op["x-kubernetes-group-version-kind"]
        assert set(gvk) == {"group", "version", "kind"}
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        if method in ("post", "put", "patch"):
            assert {"dryRun", "fieldManager", "fieldValidation"} <= query, (path, method)
        if method == "patch":
            assert "force" in query
        assert "200" in op["responses"]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


@pytest.mark.parametrize("res", resources(), ids=lambda r: f"{r.group or 'core'}/{r.resource}")
def test_real_rest_paths_for_every_resource(res: Resource) -> None:
    paths = openapi_v3_document(res.group, res.version)["paths"]  # type: ignore[index]
    item = item_path(res)
    collection = item.rsplit("/", 1)[0]
    assert {"get", "post", "delete"} <= set(paths[collection])
    assert paths[collection]["get"]["x-kubernetes-action"] == "list"
    assert paths[collection]["delete"]["x-kubernetes-action"] == "deletecollection"
    assert {"get", "put", "patch", "delete"} <= set(paths[item])
    for sub in res.subresources:
        assert f"{item}/{sub}" in paths
    if res.namespaced:
        assert f"{prefix_of(res)}/{res.resource}" in paths  # --all-namespaces
        assert "namespace" in {p["name"] for p in paths[collection]["parameters"]}
    else:
        assert not any(
            p.startswith(f"{prefix_of(res)}/namespaces/{{namespace}}/{res.resource}") for p in paths
        )


def test_cluster_scoped_and_subresource_paths() -> None:
    core = openapi_v3_document("", "v1")
    assert core is not None
    paths = core["paths"]
    assert paths["/api/v1/namespaces/{name}"]["get"]["operationId"] == "readCoreV1Namespace"
    assert paths["/api/v1/nodes/{name}/status"]["patch"]["operationId"] == "patchCoreV1NodeStatus"
    assert paths["/api/v1/namespaces/{name}/finalize"]["put"]["x-kubernetes-action"] == "put"
    log = paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert log["responses"]["200"]["content"]["text/plain"]["schema"] == {"type": "string"}
    binding = paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]
    assert binding["x-kubernetes-group-version-kind"]["kind"] == "Binding"
    apps = openapi_v3_document("apps", "v1")
    assert apps is not None
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
    }
    assert "fieldValidation" in {p["name"] for p in scale["parameters"]}
    lst = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"]
    assert lst["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"
    }


# --- schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize("gv", group_versions(), ids=gv_id)
def test_every_ref_resolves_inside_the_v3_document(gv: GroupVersion) -> None:
    doc = v3(gv)
    found = list(refs(doc))
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        resolve_pointer(doc, ref)


def test_every_ref_resolves_inside_the_v2_document() -> None:
    doc = openapi_v2_document()
    found = list(refs(doc))
    assert found
    for ref in found:
        assert ref.startswith("#/definitions/"), ref
        resolve_pointer(doc, ref)


def _schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key == "properties":
                for sub in value.values():
                    yield from _schema_nodes(sub)
            elif key in ("items", "additionalProperties"):
                yield from _schema_nodes(value)
            elif key in ("allOf", "oneOf", "anyOf"):
                for sub in value:
                    yield from _schema_nodes(sub)


@pytest.mark.parametrize("which", ["v3-core", "v3-apps", "v2"])
def test_schemas_are_openapi_not_json_schema(which: str) -> None:
    if which == "v2":
        schemas = openapi_v2_document()["definitions"]
    else:
        doc = openapi_v3_document("" if which == "v3-core" else "apps", "v1")
        assert doc is not None
        schemas = doc["components"]["schemas"]
    for name, schema in schemas.items():
        for node in _schema_nodes(schema):
            assert not isinstance(node.get("type"), list), name
            assert node.get("additionalProperties") is not False, name
            assert "$defs" not in str(node.get("$ref", "")), name


def test_served_kinds_and_extras_are_defined_and_nothing_unreachable() -> None:
    for gv in group_versions():
        schemas = v3(gv)["components"]["schemas"]
        for res in gv.resources:
            assert res.definition in schemas
            assert f"{res.definition}List" in schemas
        for extra in ("Status", "DeleteOptions", "Patch", "WatchEvent"):
            assert f"io.k8s.apimachinery.pkg.apis.meta.v1.{extra}" in schemas
        assert "io.k8s.api.autoscaling.v1.Scale" in schemas
        assert "io.k8s.api.rbac.v1.Role" not in schemas
    apps = v3(next(gv for gv in group_versions() if gv.group == "apps"))["components"]["schemas"]
    assert "io.k8s.api.core.v1.PodSpec" in apps  # reached through the pod template
    assert "io.k8s.api.batch.v1.JobSpec" not in apps  # served, but not from apps/v1


def test_definition_conventions() -> None:
    schemas = openapi_v3_document("apps", "v1")["components"]["schemas"]  # type: ignore[index]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["type"] == "object"
    assert {"group": "apps", "kind": "Deployment", "version": "v1"} in deployment[
        "x-kubernetes-group-version-kind"
    ]
    assert "enum" not in deployment["properties"]["kind"]
    assert deployment["properties"]["kind"]["type"] == "string"
    # A $ref with a description is wrapped in allOf (OpenAPI 3.0 ignores $ref siblings).
    assert deployment["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}
    ]
    assert deployment["properties"]["spec"]["description"]
    spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["properties"]["replicas"] == {
        "description": spec["properties"]["replicas"]["description"],
        "format": "int32",
        "type": "integer",
    }
    assert "template" in spec["required"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert int_or_string["x-kubernetes-int-or-string"] is True
    assert (
        "oneOf" not in openapi_v2_document()["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    )
    assert (
        openapi_v2_document()["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"]
        == "string"
    )


# --- Swagger 2.0 --------------------------------------------------------------------------


def test_v2_document_has_every_path_in_swagger_form() -> None:
    doc = openapi_v2_document()
    assert doc["swagger"] == "2.0"
    for gv in group_versions():
        for path in v3(gv)["paths"]:
            assert path in doc["paths"]
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert op["consumes"] == list(PATCH_CONTENT_TYPES)
    body = next(p for p in op["parameters"] if p["in"] == "body")
    assert body["schema"] == {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
    field_validation = next(p for p in op["parameters"] if p["name"] == "fieldValidation")
    assert field_validation["in"] == "query" and field_validation["type"] == "string"
    assert op["responses"]["200"]["schema"] == {"$ref": "#/definitions/io.k8s.api.apps.v1.Deployment"}
    deployment = doc["definitions"]["io.k8s.api.apps.v1.Deployment"]
    assert (
        deployment["properties"]["metadata"]["$ref"]
        == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
