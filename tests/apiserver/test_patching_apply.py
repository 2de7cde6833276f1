"""Server-side apply and managedFields bookkeeping against real Kubernetes 1.36 schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeviz.apiserver import schema
from kubeviz.apiserver.patching import ApplyConflict, fields_of, record_update, server_side_apply

DEPLOYMENT = schema.definition("io.k8s.api.apps.v1.Deployment")
SERVICE = schema.definition("io.k8s.api.core.v1.Service")
CONFIGMAP = schema.definition("io.k8s.api.core.v1.ConfigMap")

NGINX = 'k:{"name":"nginx"}'


def config(
    *, labels: dict | None = None, replicas: int | None = 2, image: str = "nginx:1.25", **spec: Any
) -> dict:
    """Return a Deployment apply configuration like ``kubectl apply --server-side`` sends."""
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels or {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            },
            **spec,
        },
    }
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def apply(
    live: dict | None, applied: dict, *, manager: str = "kubectl", force: bool = False, now: str = "t1"
) -> dict:
    return server_side_apply(live, applied, manager=manager, force=force, schema=DEPLOYMENT, now=now)


def labels_only(labels: dict) -> dict:
    """Return an apply configuration that only sets labels."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": labels}}


def entries(obj: dict) -> dict[tuple[str, str], dict]:
    """Index managedFields by (manager, operation)."""
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def owned(obj: dict, manager: str, *, operation: str = "Apply") -> dict:
    return entries(obj)[(manager, operation)]["fieldsV1"]


# --------------------------------------------------------------------------- fields_of

FIELDS_CASES = [
    pytest.param(
        DEPLOYMENT,
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "labels": {"app": "w"}}},
        {},
        {"f:metadata": {"f:labels": {"f:app": {}}}},
        id="labels-only-type-and-name-excluded",
    ),
    pytest.param(
        DEPLOYMENT,
        {
            "metadata": {
                "name": "w",
                "namespace": "ns",
                "uid": "u",
                "resourceVersion": "7",
                "generation": 3,
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "deletionTimestamp": "2024-01-02T00:00:00Z",
                "managedFields": [{"manager": "x"}],
            }
        },
        {},
        {},
        id="server-managed-metadata-is-never-owned",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}},
        {},
        {
            "f:spec": {
                "f:template": {"f:spec": {"f:containers": {NGINX: {".": {}, "f:image": {}, "f:name": {}}}}}
            }
        },
        id="containers-keyed-by-name",
    ),
    pytest.param(
        DEPLOYMENT,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "dns",
                                "ports": [
                                    {"containerPort": 53, "protocol": "UDP"},
                                    {"containerPort": 53, "protocol": "TCP"},
                                    {"containerPort": 9153},
                                ],
                            }
                        ]
                    }
                }
            }
        },
        {},
        {
            "f:spec": {
                "f:template": {
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"dns"}': {
                                ".": {},
                                "f:name": {},
                                "f:ports": {
                                    'k:{"containerPort":53,"protocol":"TCP"}': {
                                        ".": {},
                                        "f:containerPort": {},
                                        "f:protocol": {},
                                    },
                                    'k:{"containerPort":53,"protocol":"UDP"}': {
                                        ".": {},
                                        "f:containerPort": {},
                                        "f:protocol": {},
                                    },
                                    'k:{"containerPort":9153,"protocol":"TCP"}': {
                                        ".": {},
                                        "f:containerPort": {},
                                    },
                                },
                            }
                        }
                    }
                }
            }
        },
        id="ports-keyed-by-containerPort-and-protocol-with-default",
    ),
    pytest.param(
        DEPLOYMENT,
        {"metadata": {"finalizers": ["example.com/a", "b"]}},
        {},
        {"f:metadata": {"f:finalizers": {'v:"b"': {}, 'v:"example.com/a"': {}}}},
        id="set-list-items-by-value",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"selector": {"matchLabels": {"app": "w"}}, "strategy": {"type": "Recreate"}}},
        {},
        {"f:spec": {"f:selector": {}, "f:strategy": {"f:type": {}}}},
        id="atomic-map-is-a-leaf",
    ),
    pytest.param(
        DEPLOYMENT,
        {
            "spec": {
                "template": {
                    "spec": {
                        "tolerations": [{"key": "a"}],
                        "containers": [{"name": "c", "args": ["a", "b"], "resources": {}}],
                    }
                }
            }
        },
        {},
        {
            "f:spec": {
                "f:template": {
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"c"}': {".": {}, "f:args": {}, "f:name": {}, "f:resources": {}},
                        },
                        "f:tolerations": {},
                    }
                }
            }
        },
        id="atomic-lists-and-empty-maps-are-leaves",
    ),
    pytest.param(
        DEPLOYMENT,
        {"spec": {"replicas": 1}, "status": {"replicas": 1}},
        {"exclude_status": True},
        {"f:spec": {"f:replicas": {}}},
        id="status-excluded-on-request",
    ),
    pytest.param(
        DEPLOYMENT,
        {"status": {"replicas": 1}},
        {},
        {"f:status": {"f:replicas": {}}},
        id="status-kept-by-default",
    ),
    pytest.param(
        CONFIGMAP,
        {"data": {"a.conf": "x"}, "binaryData": {}},
        {},
        {"f:binaryData": {}, "f:data": {"f:a.conf": {}}},
        id="configmap-data-entries",
    ),
    pytest.param(
        None,
        {"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"size": 3, "nested": {"list": [1]}}},
        {},
        {
            "f:metadata": {"f:labels": {"f:a": {}}},
            "f:spec": {".": {}, "f:nested": {".": {}, "f:list": {}}, "f:size": {}},
        },
        id="no-schema-owns-every-map-and-keeps-objectmeta",
    ),
]


@pytest.mark.parametrize(("node", "obj", "options", "expected"), FIELDS_CASES)
def test_fields_of(node: Any, obj: dict, options: dict, expected: dict) -> None:
    assert fields_of(obj, node, **options) == expected


def test_service_ports_keyed_by_port_and_protocol() -> None:
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}}
    assert fields_of(svc, SERVICE)["f:spec"]["f:ports"] == {
        'k:{"port":53,"protocol":"UDP"}': {".": {}, "f:port": {}, "f:protocol": {}},
        'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:targetPort": {}},
    }


# --------------------------------------------------------------------------- server_side_apply


def test_create_from_nothing() -> None:
    result = apply(None, config(), now="2024-05-01T10:00:00Z")
    assert result["spec"]["replicas"] == 2
    assert result["metadata"]["name"] == "web"
    assert result["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": "2024-05-01T10:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {NGINX: {".": {}, "f:image": {}, "f:name": {}}}},
                    },
                },
            },
        }
    ]


def test_reapply_without_a_label_removes_it() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "fe"}))
    result = apply(live, config(labels={"app": "web"}), now="t2")
    assert result["metadata"]["labels"] == {"app": "web"}
    assert owned(result, "kubectl")["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert entries(result)[("kubectl", "Apply")]["time"] == "t2"


def test_reapply_without_a_field_keeps_it_when_another_manager_owns_it() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "fe"}))
    live = apply(live, labels_only({"tier": "fe"}), manager="other")
    result = apply(live, config(labels={"app": "web"}), now="t3")
    assert result["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    assert owned(result, "other") == {"f:metadata": {"f:labels": {"f:tier": {}}}}


def test_pruning_a_field_of_an_unmentioned_map_counts_as_a_change() -> None:
    live = apply(None, config(minReadySeconds=5), now="t1")
    live = apply(live, {"spec": {"minReadySeconds": 5}}, manager="other")
    result = apply(live, labels_only({"app": "web"}), now="t2")
    assert result["spec"] == {"minReadySeconds": 5}
    assert entries(result)[("kubectl", "Apply")]["time"] == "t2"


def test_removing_every_label_drops_the_empty_map() -> None:
    live = apply(None, config(labels={"tier": "fe"}))
    result = apply(live, {**config(), "metadata": {"name": "web"}}, now="t2")
    assert "labels" not in result["metadata"]
    assert entries(result)[("kubectl", "Apply")]["time"] == "t2"  # the object changed


def test_two_managers_own_different_fields() -> None:
    live = apply(None, config(), manager="kubectl")
    result = apply(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "annotations": {"owner": "hpa"}},
        },
        manager="tooling",
    )
    assert result["metadata"]["annotations"] == {"owner": "hpa"}
    assert result["spec"]["replicas"] == 2
    assert owned(result, "tooling") == {"f:metadata": {"f:annotations": {"f:owner": {}}}}
    assert "f:annotations" not in owned(result, "kubectl")["f:metadata"]
    again = apply(result, config(image="nginx:1.26"), now="t9")
    assert again["metadata"]["annotations"] == {"owner": "hpa"}
    assert again["spec"]["template"]["spec"]["containers"] == [{"name": "nginx", "image": "nginx:1.26"}]


def test_same_value_is_shared_without_conflict() -> None:
    live = apply(None, config(), manager="a")
    result = apply(live, config(), manager="b")
    assert owned(result, "a") == owned(result, "b")


def _legacy_deployment() -> dict:
    """A Deployment last written by ``kubectl apply`` (client-side): an Update manager owns replicas."""
    obj = config(replicas=2)
    return record_update(None, obj, manager="kubectl-client-side-apply", schema=DEPLOYMENT, now="t0")


def test_conflict_without_force() -> None:
    live = _legacy_deployment()
    with pytest.raises(ApplyConflict) as caught:
        apply(live, config(replicas=5))
    error = caught.value
    assert str(error) == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert error.conflicts == [("kubectl-client-side-apply", ".spec.replicas")]
    assert error.causes() == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_several_conflicts_are_grouped_by_manager() -> None:
    live = apply(None, config(), manager="ci")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, config(replicas=3, image="nginx:2"), manager="me")
    assert str(caught.value) == (
        'Apply failed with 2 conflicts: conflicts with "ci":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )


def test_force_takes_ownership() -> None:
    live = _legacy_deployment()
    result = apply(live, config(replicas=5), force=True)
    assert result["spec"]["replicas"] == 5
    assert "f:replicas" in owned(result, "kubectl")["f:spec"]
    assert "f:replicas" not in owned(result, "kubectl-client-side-apply", operation="Update")["f:spec"]


def test_force_drops_an_entry_left_empty() -> None:
    live = record_update(
        None,
        {"spec": {"replicas": 1}},
        manager="kubectl-scale",
        schema=DEPLOYMENT,
        now="t0",
        subresource="scale",
    )
    result = apply(live, {"spec": {"replicas": 4}}, force=True)
    assert [e["manager"] for e in result["metadata"]["managedFields"]] == ["kubectl"]


def test_conflict_names_the_subresource() -> None:
    live = record_update(
        None, {"spec": {"replicas": 1}}, manager="kubectl", schema=DEPLOYMENT, now="t0", subresource="scale"
    )
    with pytest.raises(
        ApplyConflict, match='conflict with "kubectl" with subresource "scale" using : .spec.replicas'
    ):
        apply(live, {"spec": {"replicas": 4}}, manager="helm")


def test_containers_merge_by_name() -> None:
    live = apply(None, config())
    sidecar = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "mesh", "image": "envoy"}]}}},
    }
    result = apply(live, sidecar, manager="injector")
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx:1.25"},
        {"name": "mesh", "image": "envoy"},
    ]
    assert list(owned(result, "injector")["f:spec"]["f:template"]["f:spec"]["f:containers"]) == [
        'k:{"name":"mesh"}'
    ]
    updated = apply(result, config(image="nginx:1.26"), now="t5")
    assert [c["image"] for c in updated["spec"]["template"]["spec"]["containers"]] == ["nginx:1.26", "envoy"]


def test_applied_list_order_wins_and_live_only_items_keep_their_place() -> None:
    created = config()
    created["spec"]["template"]["spec"]["containers"] = [{"name": n, "image": "img"} for n in ["a", "x", "b"]]
    live = record_update(None, created, manager="creator", schema=DEPLOYMENT, now="t0")
    reordered = config()
    reordered["spec"]["template"]["spec"]["containers"] = [{"name": n, "image": "img"} for n in ["b", "a"]]
    result = apply(live, reordered)
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["x", "b", "a"]


def test_removed_container_is_pruned() -> None:
    two = config()
    two["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    live = apply(None, two)
    result = apply(live, config())
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["nginx"]
    assert list(owned(result, "kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"]) == [NGINX]


def test_ports_keyed_by_port_and_protocol() -> None:
    dns = config()
    dns["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 53, "protocol": "TCP"},
    ]
    live = apply(None, dns)
    only_udp = config()
    only_udp["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 53, "protocol": "UDP", "name": "dns"}
    ]
    result = apply(live, only_udp)
    assert result["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 53, "protocol": "UDP", "name": "dns"}
    ]


def test_apply_merges_into_unowned_live_fields() -> None:
    live = config()
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["spec"]["revisionHistoryLimit"] = 10
    result = apply(live, config(image="nginx:2"))
    container = result["spec"]["template"]["spec"]["containers"][0]
    assert container == {"name": "nginx", "image": "nginx:2", "imagePullPolicy": "IfNotPresent"}
    assert result["spec"]["revisionHistoryLimit"] == 10


def test_atomic_fields_are_replaced_whole() -> None:
    live = apply(None, config(), manager="a")
    changed = config()
    changed["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    result = apply(live, changed, manager="a")
    assert result["spec"]["selector"] == {"matchExpressions": [{"key": "app", "operator": "Exists"}]}


def test_noop_reapply_keeps_the_timestamp() -> None:
    live = apply(None, config(), now="t1")
    result = apply(live, config(), now="t2")
    assert entries(result)[("kubectl", "Apply")]["time"] == "t1"


def test_status_is_ignored_when_excluded() -> None:
    live = apply(None, config())
    live["status"] = {"replicas": 2}
    applied = {**config(), "status": {"replicas": 99}}
    result = server_side_apply(
        live, applied, manager="kubectl", force=False, schema=DEPLOYMENT, now="t2", exclude_status=True
    )
    assert result["status"] == {"replicas": 2}
    assert "f:status" not in owned(result, "kubectl")


def test_subresource_is_recorded() -> None:
    result = server_side_apply(
        None,
        {"status": {"replicas": 1}},
        manager="ctl",
        force=False,
        schema=DEPLOYMENT,
        now="t",
        subresource="status",
    )
    assert result["metadata"]["managedFields"][0]["subresource"] == "status"


def test_apply_does_not_mutate_inputs() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "fe"}))
    applied = config(image="nginx:2")
    live_copy, applied_copy = copy.deepcopy(live), copy.deepcopy(applied)
    result = apply(live, applied, force=True)
    result["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert live == live_copy
    assert applied == applied_copy


# --------------------------------------------------------------------------- record_update


def test_record_update_on_create_owns_everything() -> None:
    created = record_update(None, config(), manager="kubectl-create", schema=DEPLOYMENT, now="t0")
    entry = created["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["time"]) == ("kubectl-create", "Update", "t0")
    assert entry["fieldsV1"] == fields_of(config(), DEPLOYMENT)


def test_record_update_moves_changed_fields() -> None:
    live = apply(None, config())
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 7
    result = record_update(live, scaled, manager="hpa", schema=DEPLOYMENT, now="t2")
    assert owned(result, "hpa", operation="Update") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owned(result, "kubectl")["f:spec"]
    assert [e["operation"] for e in result["metadata"]["managedFields"]] == ["Apply", "Update"]


def test_record_update_merges_into_the_managers_entry() -> None:
    live = record_update(None, config(), manager="editor", schema=DEPLOYMENT, now="t0")
    changed = copy.deepcopy(live)
    changed["metadata"]["annotations"] = {"note": "x"}
    result = record_update(live, changed, manager="editor", schema=DEPLOYMENT, now="t1")
    fields = owned(result, "editor", operation="Update")
    assert fields["f:metadata"] == {"f:annotations": {"f:note": {}}, "f:labels": {"f:app": {}}}
    assert "f:replicas" in fields["f:spec"]
    assert entries(result)[("editor", "Update")]["time"] == "t1"


def test_record_update_removal_clears_every_entry() -> None:
    live = apply(None, config(labels={"app": "web", "tier": "fe"}))
    live = apply(live, labels_only({"tier": "fe"}), manager="other")
    edited = copy.deepcopy(live)
    del edited["metadata"]["labels"]["tier"]
    result = record_update(live, edited, manager="kubectl-edit", schema=DEPLOYMENT, now="t4")
    assert "f:tier" not in owned(result, "kubectl")["f:metadata"]["f:labels"]
    assert ("other", "Apply") not in entries(result)  # its only field is gone
    assert ("kubectl-edit", "Update") not in entries(result)  # removing fields owns nothing


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            {"app": "web"},
            {},
            {("kubectl", "Apply"): {"f:metadata": {"f:labels": {}}}},
            id="emptying-a-map-owns-nothing",
        ),
        pytest.param(
            {},
            {"app": "web"},
            {
                ("kubectl", "Apply"): {"f:metadata": {"f:labels": {}}},
                ("editor", "Update"): {"f:metadata": {"f:labels": {"f:app": {}}}},
            },
            id="filling-an-empty-map-keeps-its-owner",
        ),
    ],
)
def test_record_update_empty_maps(before: dict, after: dict, expected: dict) -> None:
    live = server_side_apply(
        None, {"metadata": {"labels": {}}}, manager="kubectl", force=False, schema=DEPLOYMENT, now="t0"
    )
    live["metadata"]["labels"] = before
    edited = copy.deepcopy(live)
    edited["metadata"]["labels"] = after
    result = record_update(live, edited, manager="editor", schema=DEPLOYMENT, now="t1")
    assert {key: entry["fieldsV1"] for key, entry in entries(result).items()} == expected


def test_record_update_without_changes_touches_nothing() -> None:
    live = apply(None, config(), now="t1")
    result = record_update(live, copy.deepcopy(live), manager="noop", schema=DEPLOYMENT, now="t2")
    assert result["metadata"]["managedFields"] == live["metadata"]["managedFields"]


def test_record_update_ignores_server_metadata_changes() -> None:
    live = apply(None, config())
    bumped = copy.deepcopy(live)
    bumped["metadata"].update(resourceVersion="12", generation=2, uid="abc")
    result = record_update(live, bumped, manager="server", schema=DEPLOYMENT, now="t2")
    assert ("server", "Update") not in entries(result)


def test_record_update_can_reset_managed_fields() -> None:
    live = apply(None, config())
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = [{}]
    reset["spec"]["replicas"] = 3
    result = record_update(live, reset, manager="admin", schema=DEPLOYMENT, now="t2")
    assert [(e["manager"], e["operation"]) for e in result["metadata"]["managedFields"]] == [
        ("admin", "Update")
    ]


def test_record_update_does_not_mutate_inputs() -> None:
    old = apply(None, config())
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 9
    old_copy, new_copy = copy.deepcopy(old), copy.deepcopy(new)
    record_update(old, new, manager="m", schema=DEPLOYMENT, now="t")
    assert old == old_copy
    assert new == new_copy
