"""Structural validation: unknown fields, pruning and type errors against the v1.36 definitions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeviz.apiserver.validation import SchemaResult, validate_object

DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web"},
            "annotations": {"example.com/note": "hello"},
            "creationTimestamp": None,
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [
                                {"name": "A", "value": "1"},
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            ],
                            "resources": {
                                "limits": {"cpu": "500m", "memory": "128Mi"},
                                "requests": {"cpu": 0.1},
                            },
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}],
                        },
                        {"name": "sidecar", "image": "busybox", "command": ["sleep", "3600"]},
                    ],
                    "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}],
                },
            },
        },
        "status": {
            "replicas": 3,
            "readyReplicas": 3,
            "conditions": [
                {"type": "Available", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}
            ],
        },
    }


def check(obj: dict[str, Any], definition: str = DEPLOYMENT) -> SchemaResult:
    return validate_object(obj, definition)


# --- valid objects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "definition"),
    [
        (deployment(), DEPLOYMENT),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "creationTimestamp": None},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "args": ["sh"],
                            "securityContext": {"runAsUser": 1000},
                        }
                    ],
                    "restartPolicy": "Never",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                },
                "status": {
                    "phase": "Running",
                    "podIP": "10.0.0.5",
                    "startTime": "2024-05-01T10:00:00.123456Z",
                },
            },
            "io.k8s.api.core.v1.Pod",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": 8080},
                        {"port": 443, "targetPort": "https"},
                    ],
                    "type": "ClusterIP",
                },
            },
            "io.k8s.api.core.v1.Service",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "default"},
                "data": {"app.properties": "a=1\n"},
                "binaryData": {"blob": "aGVsbG8="},
            },
            "io.k8s.api.core.v1.ConfigMap",
        ),
    ],
    ids=["deployment", "pod", "service", "configmap"],
)
def test_valid_objects_pass_and_are_copied(obj: dict[str, Any], definition: str) -> None:
    result = check(obj, definition)
    assert result.ok
    assert result.unknown_fields == []
    assert result.type_errors == []
    assert result.pruned == obj
    assert result.pruned is not obj
    # A copy all the way down: mutating it must not reach the caller's object.
    result.pruned["metadata"]["name"] = "changed"
    assert obj["metadata"]["name"] != "changed"


def test_null_is_accepted_wherever_a_field_exists() -> None:
    obj = deployment()
    obj["spec"]["replicas"] = None
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = None
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = None
    obj["status"] = None
    assert check(obj).ok


# --- unknown fields -----------------------------------------------------------------------


def test_unknown_field_inside_a_container_is_reported_and_pruned() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][1]["foo"] = {"nested": True}
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["hostPortt"] = 8080
    result = check(obj)
    assert result.unknown_fields == [
        "spec.template.spec.containers[0].ports[0].hostPortt",
        "spec.template.spec.containers[1].foo",
    ]
    assert result.unknown_field_messages() == [
        'unknown field "spec.template.spec.containers[0].ports[0].hostPortt"',
        'unknown field "spec.template.spec.containers[1].foo"',
    ]
    assert result.type_errors == []
    assert not result.ok
    containers = result.pruned["spec"]["template"]["spec"]["containers"]
    assert "foo" not in containers[1]
    assert containers[0]["ports"][0] == {"containerPort": 80, "protocol": "TCP"}
    # Everything else survives, and the input is untouched.
    expected = deployment()
    assert result.pruned == expected
    assert obj["spec"]["template"]["spec"]["containers"][1]["foo"] == {"nested": True}


def test_unknown_fields_at_the_top_in_metadata_and_in_status() -> None:
    obj = deployment()
    obj["extra"] = 1
    obj["metadata"]["labelz"] = {"a": "b"}
    obj["status"]["conditions"][0]["bogus"] = "x"
    result = check(obj)
    # In the order the fields appear in the body, as a decoder meets them.
    assert result.unknown_fields == ["metadata.labelz", "status.conditions[0].bogus", "extra"]
    assert "extra" not in result.pruned
    assert "labelz" not in result.pruned["metadata"]
    assert "bogus" not in result.pruned["status"]["conditions"][0]


def test_map_keys_are_not_unknown_fields() -> None:
    obj = deployment()
    obj["metadata"]["labels"]["anything.example.com/at-all"] = "yes"
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["example.com/gpu"] = "1"
    assert check(obj).ok


# --- type errors --------------------------------------------------------------------------


def test_wrong_scalar_type_is_a_type_error_with_its_path() -> None:
    obj = deployment()
    obj["spec"]["replicas"] = "abc"
    result = check(obj)
    assert result.unknown_fields == []
    assert len(result.type_errors) == 1
    cause = result.type_errors[0]
    assert cause.reason == "FieldValueTypeInvalid"
    assert cause.field == "spec.replicas"
    assert cause.message.startswith('Invalid value: "abc": spec.replicas in body must be of type integer')


def test_type_errors_deep_inside_lists_and_maps() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][1]["command"] = "sleep 3600"
    obj["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = 1
    obj["metadata"]["labels"]["app"] = 5
    obj["spec"]["template"]["spec"]["volumes"][0] = ["not", "an", "object"]
    fields = {c.field: c for c in check(obj).type_errors}
    assert set(fields) == {
        "spec.template.spec.containers[1].command",
        "spec.template.spec.containers[0].env[0].value",
        "metadata.labels[app]",
        "spec.template.spec.volumes[0]",
    }
    assert "must be of type array" in fields["spec.template.spec.containers[1].command"].message
    assert "must be of type object" in fields["spec.template.spec.volumes[0]"].message


def test_int_or_string_accepts_both_and_nothing_else() -> None:
    obj = deployment()
    obj["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 2, "maxUnavailable": "10%"}
    assert check(obj).ok
    obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = True
    (cause,) = check(obj).type_errors
    assert cause.field == "spec.strategy.rollingUpdate.maxSurge"
    assert "must be of type integer,string" in cause.message


def test_integral_float_is_an_integer_but_a_fraction_is_not() -> None:
    obj = deployment()
    obj["spec"]["replicas"] = 2.0
    assert check(obj).ok
    obj["spec"]["replicas"] = 2.5
    assert [c.field for c in check(obj).type_errors] == ["spec.replicas"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o["spec"].__setitem__("replicas", 2**31), "spec.replicas"),
        (
            lambda o: o["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"].__setitem__(
                "cpu", "lots"
            ),
            "spec.template.spec.containers[0].resources.limits[cpu]",
        ),
        (
            lambda o: o["status"]["conditions"][0].__setitem__("lastTransitionTime", "yesterday"),
            "status.conditions[0].lastTransitionTime",
        ),
        (
            lambda o: o["status"]["conditions"][0].__setitem__("lastTransitionTime", "2024-13-01T00:00:00Z"),
            "status.conditions[0].lastTransitionTime",
        ),
    ],
    ids=["int32-overflow", "bad-quantity", "bad-time", "impossible-date"],
)
def test_values_the_decoder_cannot_parse(mutate: Any, field: str) -> None:
    obj = deployment()
    mutate(obj)
    (cause,) = check(obj).type_errors
    assert cause.reason == "FieldValueInvalid"
    assert cause.field == field


def test_quantity_error_uses_the_kubernetes_wording() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "12 MB"
    (cause,) = check(obj).type_errors
    assert "quantities must match the regular expression" in cause.message


def test_secret_data_must_be_base64() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"ok": "aGVsbG8=", "bad": "h*llo"},
    }
    (cause,) = validate_object(secret, "io.k8s.api.core.v1.Secret").type_errors
    assert cause.field == "data[bad]"
    assert "must be of type byte" in cause.message
    secret["data"]["bad"] = "aGk="
    assert validate_object(secret, "io.k8s.api.core.v1.Secret").ok


def test_a_body_that_is_not_an_object() -> None:
    (cause,) = validate_object([], DEPLOYMENT).type_errors  # type: ignore[arg-type]
    assert cause.field == ""
    assert "must be of type object" in cause.message


def test_unknown_definition_raises_key_error() -> None:
    with pytest.raises(KeyError):
        validate_object({}, "io.k8s.api.apps.v1.NoSuchKind")


def test_input_with_errors_is_never_modified() -> None:
    obj = deployment()
    obj["spec"]["nope"] = 1
    obj["spec"]["replicas"] = "x"
    before = copy.deepcopy(obj)
    check(obj)
    assert obj == before
