"""ObjectMeta validation: names, namespaces, labels, annotations, finalizers, owner references."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.apiserver.errors import Cause
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.validation import (
    is_dns1123_label,
    is_dns1123_subdomain,
    validate_metadata,
)

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap", "configmap", True, "io.k8s.api.core.v1.ConfigMap")
SERVICES = Resource("", "v1", "services", "Service", "service", True, "io.k8s.api.core.v1.Service")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", "namespace", False, "io.k8s.api.core.v1.Namespace")
NODES = Resource("", "v1", "nodes", "Node", "node", False, "io.k8s.api.core.v1.Node")
CRONJOBS = Resource("batch", "v1", "cronjobs", "CronJob", "cronjob", True, "io.k8s.api.batch.v1.CronJob")

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def obj(resource: Resource = CONFIGMAPS, **meta: Any) -> dict[str, Any]:
    meta.setdefault("name", "cfg")
    if resource.namespaced:
        meta.setdefault("namespace", "default")
    return {"metadata": {k: v for k, v in meta.items() if v is not None}}


def causes(o: dict[str, Any], resource: Resource = CONFIGMAPS, *, is_create: bool = True) -> list[Cause]:
    return validate_metadata(o, resource=resource, is_create=is_create)


def fields(found: list[Cause]) -> list[tuple[str, str]]:
    return [(c.field, c.reason) for c in found]


def test_valid_metadata_has_no_causes() -> None:
    o = obj(
        name="app.example-1",
        labels={"app": "web", "example.com/tier": "front_end.v2", "empty": ""},
        annotations={
            "Example.COM/Note": "anything at all",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
        },
        finalizers=["example.com/cleanup", "kubernetes"],
        ownerReferences=[
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1", "controller": True}
        ],
        generation=1,
    )
    assert causes(o) == []


# --- names --------------------------------------------------------------------------------


def test_name_is_required_on_create_unless_generate_name() -> None:
    found = causes(obj(name=None))
    assert fields(found) == [("metadata.name", "FieldValueRequired")]
    assert found[0].message == "Required value: name or generateName is required"
    assert causes(obj(name=None, generateName="cfg-")) == []
    # On update the stored name applies; nothing to require here.
    assert causes(obj(name=None), is_create=False) == []


@pytest.mark.parametrize(("length", "ok"), [(253, True), (254, False)])
def test_subdomain_names_up_to_253_characters(length: int, ok: bool) -> None:
    name = ("a" * 62 + ".") * 4
    name = (name + "a" * length)[:length]
    assert len(name) == length
    found = causes(obj(name=name))
    if ok:
        assert found == []
    else:
        assert fields(found) == [("metadata.name", "FieldValueInvalid")]
        assert found[0].message == f'Invalid value: "{name}": must be no more than 253 characters'


def test_subdomain_name_message_is_worded_like_kubernetes() -> None:
    (cause,) = causes(obj(name="Web_App"))
    assert cause.field == "metadata.name"
    assert cause.reason == "FieldValueInvalid"
    assert cause.message == f'Invalid value: "Web_App": {SUBDOMAIN_MSG}'


@pytest.mark.parametrize("resource", [NAMESPACES, SERVICES], ids=["namespaces", "services"])
@pytest.mark.parametrize(("length", "ok"), [(63, True), (64, False)])
def test_label_names_up_to_63_characters(resource: Resource, length: int, ok: bool) -> None:
    name = "a" * length
    found = causes(obj(resource, name=name), resource)
    assert (found == []) is ok
    if not ok:
        assert found[0].field == "metadata.name"
        assert "must be no more than 63 characters" in found[0].message


def test_namespace_names_are_labels_not_subdomains() -> None:
    assert causes(obj(NAMESPACES, name="team-a"), NAMESPACES) == []
    (cause,) = causes(obj(NAMESPACES, name="team.a"), NAMESPACES)
    assert "a lowercase RFC 1123 label must consist of" in cause.message
    # Subdomain kinds take the dot.
    assert causes(obj(NODES, name="node-1.example.com"), NODES) == []


def test_service_names_must_start_with_a_letter() -> None:
    assert causes(obj(SERVICES, name="web-1"), SERVICES) == []
    (cause,) = causes(obj(SERVICES, name="1web"), SERVICES)
    assert cause.field == "metadata.name"
    assert (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic"
        in cause.message
    )
    # Other kinds allow a leading digit.
    assert causes(obj(name="1web")) == []


def test_generate_name_allows_a_trailing_dash_but_is_otherwise_checked() -> None:
    assert causes(obj(name=None, generateName="web-")) == []
    found = causes(obj(name=None, generateName="Web-"))
    assert fields(found) == [("metadata.generateName", "FieldValueInvalid")]
    found = causes(obj(SERVICES, name=None, generateName="9svc-"), SERVICES)
    assert fields(found) == [("metadata.generateName", "FieldValueInvalid")]


def test_cronjob_names_leave_room_for_the_job_suffix() -> None:
    assert causes(obj(CRONJOBS, name="c" * 52), CRONJOBS) == []
    (cause,) = causes(obj(CRONJOBS, name="c" * 53), CRONJOBS)
    assert cause.message.endswith("must be no more than 52 characters")


def test_name_predicates() -> None:
    assert is_dns1123_label("a" * 63)
    assert not is_dns1123_label("a" * 64)
    assert not is_dns1123_label("a.b")
    assert not is_dns1123_label("-a")
    assert not is_dns1123_label("")
    assert is_dns1123_subdomain("a.b-c.d")
    assert not is_dns1123_subdomain("a..b")
    assert not is_dns1123_subdomain("A.b")
    assert is_dns1123_subdomain("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61)
    assert not is_dns1123_subdomain("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)


# --- namespace and generation -------------------------------------------------------------


def test_namespace_required_for_namespaced_and_forbidden_for_cluster_scoped() -> None:
    assert fields(causes({"metadata": {"name": "x"}})) == [("metadata.namespace", "FieldValueRequired")]
    assert fields(causes(obj(namespace="Bad_NS"))) == [("metadata.namespace", "FieldValueInvalid")]
    found = causes(obj(NODES, name="n1", namespace="default"), NODES)
    assert fields(found) == [("metadata.namespace", "FieldValueForbidden")]


def test_generation_must_not_be_negative() -> None:
    assert fields(causes(obj(generation=-1))) == [("metadata.generation", "FieldValueInvalid")]


# --- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "ok"), [(63, True), (64, False)])
def test_label_values_up_to_63_characters(length: int, ok: bool) -> None:
    found = causes(obj(labels={"app": "v" * length}))
    if ok:
        assert found == []
    else:
        assert fields(found) == [("metadata.labels", "FieldValueInvalid")]
        assert "must be no more than 63 characters" in found[0].message


@pytest.mark.parametrize("value", ["-x", "x-", "a b", "ü"])
def test_label_values_must_start_and_end_alphanumeric(value: str) -> None:
    (cause,) = causes(obj(labels={"app": value}))
    assert cause.field == "metadata.labels"
    assert "a valid label must be an empty string or consist of alphanumeric characters" in cause.message


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("-app", "name part must consist of alphanumeric characters"),
        ("k" * 64, "name part must be no more than 63 characters"),
        ("example.com/", "name part must be non-empty"),
        ("/app", "prefix part must be non-empty"),
        ("Example.com/app", "prefix part a lowercase RFC 1123 subdomain"),
        ("p" * 254 + "/app", "prefix part must be no more than 253 characters"),
        ("a/b/c", "a qualified name must consist of"),
    ],
)
def test_label_keys_are_qualified_names(key: str, expected: str) -> None:
    found = causes(obj(labels={key: "v"}))
    assert found, key
    assert all(c.field == "metadata.labels" and c.reason == "FieldValueInvalid" for c in found)
    assert any(expected in c.message for c in found), [c.message for c in found]


def test_label_key_limits_are_inclusive() -> None:
    assert causes(obj(labels={"k" * 63: "v", "p" * 253 + "/n": "v"})) == []


# --- annotations --------------------------------------------------------------------------


def _annotations_of_size(total: int) -> dict[str, str]:
    key = "example.com/big"
    return {key: "x" * (total - len(key))}


@pytest.mark.parametrize(("size", "ok"), [(262144, True), (262145, False)])
def test_total_annotation_size_limit(size: int, ok: bool) -> None:
    found = causes(obj(annotations=_annotations_of_size(size)))
    if ok:
        assert found == []
    else:
        assert fields(found) == [("metadata.annotations", "FieldValueTooLong")]
        assert found[0].message == "Too long: may not be more than 262144 bytes"


def test_annotation_size_counts_bytes_and_keys() -> None:
    # 'é' is two bytes in UTF-8: one character short of the limit in characters, over it in bytes.
    key = "k"
    annotations = {key: "é" + "x" * (262144 - len(key) - 1)}
    assert fields(causes(obj(annotations=annotations))) == [("metadata.annotations", "FieldValueTooLong")]


def test_annotation_keys_are_case_insensitive_qualified_names() -> None:
    assert causes(obj(annotations={"Example.com/SomeKey": "v"})) == []
    (cause,) = causes(obj(annotations={"bad key": "v"}))
    assert cause.field == "metadata.annotations"
    assert cause.message.startswith('Invalid value: "bad key": name part must consist of')


# --- finalizers and owner references ------------------------------------------------------


def test_finalizers_must_be_qualified_names() -> None:
    assert causes(obj(finalizers=["example.com/a", "orphan"])) == []
    (cause,) = causes(obj(finalizers=["not a finalizer"]))
    assert (cause.field, cause.reason) == ("metadata.finalizers", "FieldValueInvalid")


def test_orphan_and_foreground_deletion_exclude_each_other() -> None:
    (cause,) = causes(obj(finalizers=["orphan", "foregroundDeletion"]))
    assert "finalizer orphan and foregroundDeletion cannot be both set" in cause.message


def test_owner_references_need_identity_and_at_most_one_controller() -> None:
    refs = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": True},
        {"apiVersion": "", "kind": "", "name": "", "uid": ""},
    ]
    found = causes(obj(ownerReferences=refs))
    assert ("metadata.ownerReferences", "FieldValueInvalid") in fields(found)
    assert "Only one reference can have Controller set to true" in " ".join(c.message for c in found)
    for part in ("apiVersion", "kind", "name", "uid"):
        assert (f"metadata.ownerReferences.{part}", "FieldValueInvalid") in fields(found)


def test_update_still_checks_labels_and_annotations() -> None:
    found = causes(obj(name=None, labels={"app": "-"}), is_create=False)
    assert fields(found) == [("metadata.labels", "FieldValueInvalid")]
