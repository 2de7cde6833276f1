"""Strategic merge patch against real Kubernetes 1.36 schemas (Deployment, Pod)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubeviz.apiserver import schema
from kubeviz.apiserver.patching import strategic_merge_patch

DEPLOYMENT = schema.definition("io.k8s.api.apps.v1.Deployment")
POD = schema.definition("io.k8s.api.core.v1.Pod")


def deployment() -> dict:
    """Return a fresh Deployment, as stored, for every test to patch."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "labels": {"app": "web", "tier": "frontend"},
            "finalizers": ["example.com/a", "example.com/b"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.25",
                            "env": [{"name": "MODE", "value": "prod"}],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        },
                        {"name": "sidecar", "image": "busybox", "args": ["sleep", "3600"]},
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                    "volumes": [{"name": "cache", "emptyDir": {}}],
                },
            },
        },
    }


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def template_patch(pod_spec_patch: dict) -> dict:
    """Wrap a pod-spec patch into a Deployment patch."""
    return {"spec": {"template": {"spec": pod_spec_patch}}}


def _set_image(d: dict) -> None:
    containers(d)[0]["image"] = "nginx:1.26"


def _add_env(d: dict) -> None:
    containers(d)[0]["env"].insert(0, {"name": "DEBUG", "value": "1"})


def _change_env(d: dict) -> None:
    containers(d)[0]["env"][0]["value"] = "dev"


def _add_container_front(d: dict) -> None:
    containers(d).insert(0, {"name": "logger", "image": "fluentbit"})


def _add_container_in_order(d: dict) -> None:
    containers(d).append({"name": "logger", "image": "fluentbit"})


def _delete_sidecar(d: dict) -> None:
    del containers(d)[1]


def _replace_containers(d: dict) -> None:
    pod_spec(d)["containers"] = [{"name": "only", "image": "alpine"}]


def _reverse_containers(d: dict) -> None:
    containers(d).reverse()


def _recreate(d: dict) -> None:
    d["spec"]["strategy"] = {"type": "Recreate"}


def _delete_finalizer_a(d: dict) -> None:
    d["metadata"]["finalizers"] = ["example.com/b"]


def _union_finalizers(d: dict) -> None:
    d["metadata"]["finalizers"] = ["example.com/a", "example.com/b", "example.com/c"]


def _drop_tier(d: dict) -> None:
    del d["metadata"]["labels"]["tier"]


def _replace_template_labels(d: dict) -> None:
    d["spec"]["template"]["metadata"]["labels"] = {"v": "2"}


def _delete_strategy(d: dict) -> None:
    del d["spec"]["strategy"]


def _replace_tolerations(d: dict) -> None:
    pod_spec(d)["tolerations"] = [{"key": "b", "operator": "Exists"}]


def _replace_args(d: dict) -> None:
    containers(d)[1]["args"] = ["sleep", "10"]


def _add_port(d: dict) -> None:
    containers(d)[0]["ports"].insert(0, {"containerPort": 443, "protocol": "TCP"})


def _merge_selector(d: dict) -> None:
    d["spec"]["selector"]["matchLabels"]["track"] = "stable"


def _volume_to_configmap(d: dict) -> None:
    pod_spec(d)["volumes"] = [{"name": "cache", "configMap": {"name": "cfg"}}]


def _volume_with_both(d: dict) -> None:
    pod_spec(d)["volumes"] = [{"name": "cache", "emptyDir": {}, "configMap": {"name": "cfg"}}]


def _delete_nginx_and_add_logger(d: dict) -> None:
    pod_spec(d)["containers"] = [containers(d)[1], {"name": "logger", "image": "fluentbit"}]


CASES: list[Any] = [
    pytest.param(
        template_patch({"containers": [{"name": "nginx", "image": "nginx:1.26"}]}),
        _set_image,
        id="change-image-of-container-merged-by-name",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "nginx", "env": [{"name": "DEBUG", "value": "1"}]}]}),
        _add_env,
        id="add-env-var-to-a-container-goes-first-like-upstream",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "nginx", "env": [{"name": "MODE", "value": "dev"}]}]}),
        _change_env,
        id="change-env-var-merged-by-name",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "logger", "image": "fluentbit"}]}),
        _add_container_front,
        id="new-container-without-order-goes-first-like-upstream",
    ),
    pytest.param(
        template_patch(
            {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}, {"name": "logger"}],
                "containers": [{"name": "logger", "image": "fluentbit"}],
            }
        ),
        _add_container_in_order,
        id="new-container-placed-by-setElementOrder",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "sidecar", "$patch": "delete"}]}),
        _delete_sidecar,
        id="delete-container-with-patch-delete",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "only", "image": "alpine"}, {"$patch": "replace"}]}),
        _replace_containers,
        id="replace-container-list-with-patch-replace-item",
    ),
    pytest.param(
        template_patch({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}]}),
        _reverse_containers,
        id="setElementOrder-alone-reorders",
    ),
    pytest.param(
        template_patch(
            {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "logger"}],
                "containers": [
                    {"name": "nginx", "$patch": "delete"},
                    {"name": "logger", "image": "fluentbit"},
                ],
            }
        ),
        _delete_nginx_and_add_logger,
        id="delete-and-add-with-setElementOrder",
    ),
    pytest.param(
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        _recreate,
        id="retainKeys-on-deployment-strategy-drops-rollingUpdate",
    ),
    pytest.param(
        {"spec": {"strategy": {"type": "Recreate"}}},
        lambda d: d["spec"]["strategy"].update(type="Recreate"),
        id="without-retainKeys-strategy-merges",
    ),
    pytest.param(
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}},
        _delete_finalizer_a,
        id="deleteFromPrimitiveList-finalizers",
    ),
    pytest.param(
        {"metadata": {"finalizers": ["example.com/b", "example.com/c"]}},
        _union_finalizers,
        id="finalizers-merge-as-a-set",
    ),
    pytest.param(
        {"metadata": {"labels": {"tier": None}}},
        _drop_tier,
        id="null-deletes-a-label",
    ),
    pytest.param(
        {"metadata": {"labels": {"absent": None}}},
        lambda d: None,
        id="null-for-missing-key-is-a-no-op",
    ),
    pytest.param(
        {"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "v": "2"}}}}},
        _replace_template_labels,
        id="patch-replace-on-a-map",
    ),
    pytest.param(
        {"spec": {"strategy": {"$patch": "delete"}}},
        _delete_strategy,
        id="patch-delete-on-a-map",
    ),
    pytest.param(
        {"spec": {"replicas": 5, "$patch": "merge"}},
        lambda d: d["spec"].update(replicas=5),
        id="patch-merge-is-the-default",
    ),
    pytest.param(
        template_patch({"tolerations": [{"key": "b", "operator": "Exists"}]}),
        _replace_tolerations,
        id="atomic-list-is-replaced",
    ),
    pytest.param(
        template_patch({"containers": [{"name": "sidecar", "args": ["sleep", "10"]}]}),
        _replace_args,
        id="primitive-list-without-strategy-is-replaced",
    ),
    pytest.param(
        template_patch(
            {"containers": [{"name": "nginx", "ports": [{"containerPort": 443, "protocol": "TCP"}]}]}
        ),
        _add_port,
        id="ports-merge-by-containerPort",
    ),
    pytest.param(
        {"spec": {"selector": {"matchLabels": {"track": "stable"}}}},
        _merge_selector,
        id="atomic-map-still-merges-like-upstream-smp",
    ),
    pytest.param(
        template_patch(
            {
                "volumes": [
                    {"name": "cache", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cfg"}}
                ]
            }
        ),
        _volume_to_configmap,
        id="retainKeys-inside-merged-volume-item",
    ),
    pytest.param(
        template_patch({"volumes": [{"name": "cache", "configMap": {"name": "cfg"}}]}),
        _volume_with_both,
        id="volume-item-merges-without-retainKeys",
    ),
]


@pytest.mark.parametrize(("patch", "edit"), CASES)
def test_deployment_patches(patch: dict, edit: Callable[[dict], None]) -> None:
    expected = deployment()
    edit(expected)
    assert strategic_merge_patch(deployment(), patch, DEPLOYMENT) == expected


def _has_directive(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k.startswith("$") for k in value) or any(_has_directive(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_directive(v) for v in value)
    return False


@pytest.mark.parametrize(
    "patch",
    [case.values[0] for case in CASES]
    + [
        template_patch({"initContainers": [{"name": "init", "image": "x", "$patch": "merge"}]}),
        {"metadata": {"annotations": {"$patch": "replace", "a": "b"}}},
        {"spec": {"template": {"spec": {"securityContext": {"$patch": "delete"}}}}},
    ],
)
def test_no_directive_survives(patch: dict) -> None:
    assert not _has_directive(strategic_merge_patch(deployment(), patch, DEPLOYMENT))


UNKNOWN_SCHEMA_CASES = [
    pytest.param(
        None,
        {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "new"}]}}}},
        [{"name": "nginx", "image": "new"}],
        id="no-schema-at-all-replaces-lists",
    ),
    pytest.param(
        {"type": "object"},
        {"spec": {"template": {"spec": {"containers": [{"name": "logger"}]}}}},
        [{"name": "logger"}],
        id="schema-without-properties-falls-back-to-merge-patch",
    ),
]


@pytest.mark.parametrize(("node", "patch", "expected_containers"), UNKNOWN_SCHEMA_CASES)
def test_unknown_schema_falls_back_to_json_merge_patch(
    node: Any, patch: dict, expected_containers: list
) -> None:
    result = strategic_merge_patch(deployment(), patch, node)
    assert containers(result) == expected_containers
    assert result["spec"]["replicas"] == 2  # maps still merge


def test_unknown_field_below_known_schema_falls_back() -> None:
    original = {"spec": {"containers": [{"name": "a"}], "extra": {"items": [1, 2], "keep": True}}}
    patch = {"spec": {"extra": {"items": [3]}, "containers": [{"name": "b"}]}}
    result = strategic_merge_patch(original, patch, POD)
    assert result["spec"]["extra"] == {"items": [3], "keep": True}
    assert result["spec"]["containers"] == [{"name": "b"}, {"name": "a"}]


def test_pod_merges_container_ports_and_keeps_others() -> None:
    pod = {
        "spec": {
            "containers": [
                {"name": "dns", "ports": [{"containerPort": 53, "protocol": "UDP"}]},
            ]
        }
    }
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "dns"}],
            "containers": [
                {
                    "name": "dns",
                    "$setElementOrder/ports": [{"containerPort": 53}, {"containerPort": 9153}],
                    "ports": [{"containerPort": 9153, "protocol": "TCP"}],
                }
            ],
        }
    }
    assert strategic_merge_patch(pod, patch, POD)["spec"]["containers"][0]["ports"] == [
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 9153, "protocol": "TCP"},
    ]


def test_top_level_replace_and_delete() -> None:
    assert strategic_merge_patch(deployment(), {"$patch": "replace", "kind": "X"}, DEPLOYMENT) == {
        "kind": "X"
    }
    assert strategic_merge_patch(deployment(), {"$patch": "delete"}, DEPLOYMENT) == {}


def test_upstream_element_order_interleaves_server_only_items() -> None:
    """Mirror upstream's "set elements order in a list with server-only items 3" case."""
    original = {"spec": {"containers": [{"name": n} for n in ["1", "2", "7", "9", "8", "3", "4"]]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": n} for n in ["2", "1", "4", "3"]]}}
    result = strategic_merge_patch(original, patch, POD)
    assert [c["name"] for c in result["spec"]["containers"]] == ["2", "1", "7", "9", "8", "4", "3"]


def test_inputs_are_not_mutated() -> None:
    original = deployment()
    patch = template_patch(
        {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"name": "nginx", "image": "x", "env": [{"name": "MODE", "$patch": "delete"}]}],
        }
    )
    original_copy, patch_copy = copy.deepcopy(original), copy.deepcopy(patch)
    result = strategic_merge_patch(original, patch, DEPLOYMENT)
    containers(result)[0]["image"] = "mutated"
    assert original == original_copy
    assert patch == patch_copy


ERROR_CASES = [
    pytest.param({"spec": {"strategy": {"$patch": "foo"}}}, "foo", id="unknown-map-directive"),
    pytest.param(
        template_patch({"containers": [{"name": "a", "$patch": "bogus"}]}),
        "bogus",
        id="unknown-item-directive",
    ),
    pytest.param(
        template_patch({"containers": [{"image": "nameless"}]}), "merge key", id="item-without-merge-key"
    ),
    pytest.param(
        template_patch({"containers": [{"$patch": "delete"}]}), "merge key", id="delete-without-merge-key"
    ),
    pytest.param(
        {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}},
        "rollingUpdate",
        id="retainKeys-missing-a-patched-key",
    ),
    pytest.param({"spec": {"strategy": {"$retainKeys": "type"}}}, "retainKeys", id="retainKeys-not-a-list"),
    pytest.param(
        template_patch(
            {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
                "containers": [{"name": "nginx"}, {"name": "sidecar"}],
            }
        ),
        "doesn't match",
        id="setElementOrder-contradicts-patch-order",
    ),
    pytest.param(
        template_patch({"$setElementOrder/containers": {"name": "x"}}),
        "must be a list",
        id="order-not-a-list",
    ),
    pytest.param(
        template_patch({"$setElementOrder/containers": ["nginx"]}),
        "merge key",
        id="order-entries-without-key",
    ),
    pytest.param(
        {"metadata": {"$deleteFromPrimitiveList/finalizers": "x"}},
        "must be a list",
        id="delete-list-not-list",
    ),
    pytest.param({"metadata": {"finalizers": [{"a": 1}]}}, "merge-key", id="objects-in-keyless-merge-list"),
]


@pytest.mark.parametrize(("patch", "message"), ERROR_CASES)
def test_invalid_patches_raise_value_error(patch: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        strategic_merge_patch(deployment(), patch, DEPLOYMENT)


def test_patch_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        strategic_merge_patch(deployment(), ["not", "a", "map"], DEPLOYMENT)  # type: ignore[arg-type]
