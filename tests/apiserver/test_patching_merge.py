"""JSON merge patch (RFC 7386): the RFC's own examples plus Kubernetes-shaped ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeviz.apiserver.patching import json_merge_patch

RFC_7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_7386_EXAMPLES)
def test_rfc_7386_examples(original: Any, patch: Any, expected: Any) -> None:
    assert json_merge_patch(original, patch) == expected


def _deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "frontend"}},
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.25"},
                        {"name": "sidecar", "image": "busybox"},
                    ]
                }
            },
        },
    }


KUBERNETES_CASES = [
    pytest.param(
        {"metadata": {"labels": {"tier": None}}},
        lambda d: d["metadata"].update(labels={"app": "web"}),
        id="null-deletes-a-label",
    ),
    pytest.param(
        {"spec": {"replicas": 3}},
        lambda d: d["spec"].update(replicas=3),
        id="scalar-replaced",
    ),
    pytest.param(
        {"metadata": {"annotations": {"team": "blue"}}},
        lambda d: d["metadata"].update(annotations={"team": "blue"}),
        id="new-map-added",
    ),
    pytest.param(
        {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}},
        lambda d: d["spec"]["template"]["spec"].update(containers=[{"name": "nginx", "image": "nginx:1.26"}]),
        id="lists-are-replaced-not-merged-by-name",
    ),
    pytest.param(
        {"spec": None},
        lambda d: d.pop("spec"),
        id="null-deletes-a-whole-subtree",
    ),
]


@pytest.mark.parametrize(("patch", "edit"), KUBERNETES_CASES)
def test_kubernetes_objects(patch: dict, edit: Any) -> None:
    expected = _deployment()
    edit(expected)
    assert json_merge_patch(_deployment(), patch) == expected


def test_inputs_are_not_mutated() -> None:
    original = _deployment()
    patch = {"metadata": {"labels": {"tier": None, "new": "x"}}, "spec": {"template": {"spec": {}}}}
    original_copy, patch_copy = copy.deepcopy(original), copy.deepcopy(patch)
    result = json_merge_patch(original, patch)
    result["spec"]["template"]["spec"]["containers"].append({"name": "late"})
    assert original == original_copy
    assert patch == patch_copy


def test_result_does_not_share_patch_values() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
    result = json_merge_patch({}, patch)
    result["spec"]["template"]["spec"]["containers"][0]["name"] = "changed"
    assert patch["spec"]["template"]["spec"]["containers"][0]["name"] == "a"
