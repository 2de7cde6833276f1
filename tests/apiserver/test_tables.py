"""kubectl Table output (kubeviz.apiserver.tables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.apiserver import registry
from kubeviz.apiserver.errors import APIError
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.tables import human_duration, since, to_table

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


CREATED = ago(hours=1)


def res(group: str, resource: str) -> Resource:
    found = registry.lookup(group, "v1", resource)
    assert found is not None, (group, resource)
    return found


def table(group: str, resource: str, *objects: dict, **kwargs: Any) -> dict:
    return to_table(list(objects), resource=res(group, resource), list_meta={}, now=NOW, **kwargs)


def cells(group: str, resource: str, obj: dict) -> dict[str, Any]:
    """Return the row's cells keyed by upper-cased column name, as kubectl shows them."""
    t = table(group, resource, obj)
    names = [c["name"].upper() for c in t["columnDefinitions"]]
    return dict(zip(names, t["rows"][0]["cells"], strict=True))


def meta(name: str = "x", **extra: Any) -> dict:
    return {"name": name, "namespace": "default", "creationTimestamp": CREATED, **extra}


# --- ages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-1.5), "0s"),
        (timedelta(seconds=-1), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(seconds=120), "2m"),
        (timedelta(seconds=200), "3m20s"),
        (timedelta(seconds=599), "9m59s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=45, seconds=30), "45m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=12), "3h12m"),
        (timedelta(hours=7, minutes=59), "7h59m"),
        (timedelta(hours=8), "8h"),
        (timedelta(hours=47, minutes=59), "47h"),
        (timedelta(hours=48), "2d"),
        (timedelta(days=2, hours=5), "2d5h"),
        (timedelta(days=5), "5d"),
        (timedelta(days=7, hours=23), "7d23h"),
        (timedelta(days=8), "8d"),
        (timedelta(days=729), "729d"),
        (timedelta(days=730), "2y"),
        (timedelta(days=733), "2y3d"),
        (timedelta(days=365 * 8 - 1), "7y364d"),
        (timedelta(days=365 * 8), "8y"),
        (timedelta(days=365 * 9 + 100), "9y"),
    ],
)
def test_human_duration(delta: timedelta, text: str) -> None:
    assert human_duration(delta) == text


def test_since_parses_times_and_reports_unknown() -> None:
    assert since(ago(minutes=5), NOW) == "5m"
    assert since("2024-06-01T11:59:30.123456Z", NOW) == "29s"
    assert since(None, NOW) == "<unknown>"
    assert since("", NOW) == "<unknown>"
    assert since("2024-06-01T11:00:00Z", NOW.replace(tzinfo=None)) == "60m"


# --- table shape --------------------------------------------------------------------------

SAMPLES: dict[tuple[str, str], dict] = {
    ("", "pods"): {
        "metadata": meta("web-1"),
        "spec": {"containers": [{"name": "web", "image": "nginx"}], "nodeName": "node-a"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5",
            "containerStatuses": [
                {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
        },
    },
    ("apps", "deployments"): {
        "metadata": meta("web"),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": []}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    },
    ("", "nodes"): {
        "metadata": meta("node-a"),
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    },
}


def all_resources() -> list[Resource]:
    return list(registry.resources())


@pytest.mark.parametrize("resource", all_resources(), ids=lambda r: f"{r.group or 'core'}/{r.resource}")
def test_every_kind_has_one_cell_per_column(resource: Resource) -> None:
    objects = [
        {"metadata": meta()},
        {"metadata": meta("y"), "spec": {}, "status": {}},
        SAMPLES.get(resource.key(), {"metadata": meta("z")}),
    ]
    t = to_table(objects, resource=resource, list_meta={"resourceVersion": "7"}, now=NOW)
    assert (t["kind"], t["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert t["metadata"] == {"resourceVersion": "7"}
    columns = t["columnDefinitions"]
    assert len(t["rows"]) == 3
    for row in t["rows"]:
        assert len(row["cells"]) == len(columns)
    for column in columns:
        assert set(column) == {"name", "type", "format", "description", "priority"}
        assert column["type"] in {"string", "integer", "number", "boolean", "date"}
        assert column["priority"] in (0, 1)
        assert column["description"]
    assert [c["name"] for c in columns if c["format"] == "name"] == ["Name"]


def test_unknown_kind_gets_name_and_age() -> None:
    other = Resource("example.com", "v1", "widgets", "Widget", "widget", True, "com.example.v1.Widget")
    t = to_table([{"metadata": meta("w")}], resource=other, list_meta={}, now=NOW)
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Age"]
    assert t["rows"][0]["cells"] == ["w", "60m"]


def test_missing_creation_timestamp_reads_unknown() -> None:
    assert cells("", "configmaps", {"metadata": {"name": "c"}})["AGE"] == "<unknown>"


def test_include_object_modes() -> None:
    pod = SAMPLES[("", "pods")]
    (row,) = table("", "pods", pod)["rows"]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    (row,) = table("", "pods", pod, include_object="Object")["rows"]
    assert row["object"] is pod
    (row,) = table("", "pods", pod, include_object="None")["rows"]
    assert "object" not in row
    (row,) = table("", "pods", pod, include_object="")["rows"]
    assert row["object"]["kind"] == "PartialObjectMetadata"


def test_bad_include_object_is_rejected() -> None:
    with pytest.raises(APIError) as info:
        table("", "pods", SAMPLES[("", "pods")], include_object="Everything")
    assert info.value.code == 400
    assert info.value.message == 'unrecognized includeObject value: "Everything"'


def test_empty_list_still_has_columns() -> None:
    t = table("apps", "deployments")
    assert t["rows"] == []
    assert [c["name"] for c in t["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]


# --- pods ---------------------------------------------------------------------------------


def pod(
    *statuses: dict, init: list[dict] | None = None, init_statuses: list[dict] | None = None, **status: Any
) -> dict:
    containers = [{"name": s["name"], "image": "img"} for s in statuses] or [{"name": "c", "image": "img"}]
    return {
        "metadata": meta("p"),
        "spec": {"containers": containers, "initContainers": init or []},
        "status": {
            "phase": "Running",
            "containerStatuses": list(statuses),
            "initContainerStatuses": init_statuses or [],
            **status,
        },
    }


def running(name: str = "c", *, ready: bool = True, restarts: int = 0, **extra: Any) -> dict:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}, **extra}


def waiting(reason: str, name: str = "c", **extra: Any) -> dict:
    return {
        "name": name,
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(name: str = "c", **term: Any) -> dict:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": term}}


def pod_cells(p: dict) -> tuple[str, str, str]:
    c = cells("", "pods", p)
    return c["READY"], c["STATUS"], c["RESTARTS"]


def test_running_pod() -> None:
    assert pod_cells(pod(running("a"), running("b", ready=False))) == ("1/2", "Running", "0")


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (pod(waiting("ContainerCreating"), phase="Pending"), "ContainerCreating"),
        (pod(waiting("CrashLoopBackOff")), "CrashLoopBackOff"),
        (pod(waiting("ImagePullBackOff"), phase="Pending"), "ImagePullBackOff"),
        (pod(terminated(reason="Completed", exitCode=0), phase="Succeeded"), "Completed"),
        (pod(terminated(reason="Error", exitCode=1), phase="Failed"), "Error"),
        (pod(terminated(exitCode=3)), "ExitCode:3"),
        (pod(terminated(exitCode=137, signal=9)), "Signal:9"),
        (pod(phase="Pending"), "Pending"),
        (pod(phase="Failed", reason="Evicted"), "Evicted"),
        (
            pod(
                phase="Pending",
                conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
            ),
            "SchedulingGated",
        ),
        # the first container's reason wins
        (pod(waiting("CrashLoopBackOff", "a"), waiting("ErrImagePull", "b")), "CrashLoopBackOff"),
        # a completed container next to a running one: Running if the pod is Ready, else NotReady
        (
            pod(
                terminated("a", reason="Completed", exitCode=0),
                running("b"),
                conditions=[{"type": "Ready", "status": "True"}],
            ),
            "Running",
        ),
        (pod(terminated("a", reason="Completed", exitCode=0), running("b")), "NotReady"),
    ],
)
def test_pod_status(p: dict, expected: str) -> None:
    assert pod_cells(p)[1] == expected


def test_terminating_pod() -> None:
    p = pod(running())
    p["metadata"]["deletionTimestamp"] = ago(seconds=3)
    assert pod_cells(p)[1] == "Terminating"


def test_deleted_pod_already_finished_keeps_its_status() -> None:
    p = pod(terminated(reason="Completed", exitCode=0), phase="Succeeded")
    p["metadata"]["deletionTimestamp"] = ago(seconds=3)
    assert pod_cells(p)[1] == "Completed"


def test_deleted_pod_on_lost_node_is_unknown() -> None:
    p = pod(running(), reason="NodeLost")
    p["metadata"]["deletionTimestamp"] = ago(seconds=3)
    assert pod_cells(p)[1] == "Unknown"


INIT = [{"name": "i1", "image": "busybox"}, {"name": "i2", "image": "busybox"}]


@pytest.mark.parametrize(
    ("init_statuses", "expected"),
    [
        ([waiting("PodInitializing", "i1"), waiting("PodInitializing", "i2")], "Init:0/2"),
        ([terminated("i1", reason="Completed", exitCode=0), running("i2", ready=False)], "Init:1/2"),
        ([waiting("CrashLoopBackOff", "i1")], "Init:CrashLoopBackOff"),
        ([terminated("i1", reason="Error", exitCode=1)], "Init:Error"),
        ([terminated("i1", exitCode=2)], "Init:ExitCode:2"),
        ([terminated("i1", exitCode=143, signal=15)], "Init:Signal:15"),
    ],
)
def test_pod_init_status(init_statuses: list[dict], expected: str) -> None:
    p = pod(waiting("PodInitializing"), init=INIT, init_statuses=init_statuses, phase="Pending")
    assert pod_cells(p)[:2] == ("0/1", expected)


def test_pod_after_init_uses_app_containers() -> None:
    done = [terminated(n, reason="Completed", exitCode=0) for n in ("i1", "i2")]
    assert pod_cells(pod(running(), init=INIT, init_statuses=done)) == ("1/1", "Running", "0")


def test_sidecar_counts_as_container() -> None:
    init = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    side = [running("proxy", started=True, restarts=2)]
    assert pod_cells(pod(running(), init=init, init_statuses=side))[:2] == ("2/2", "Running")
    assert pod_cells(pod(running(), init=init, init_statuses=side))[2] == "2"


def test_restarts_show_time_since_last_restart() -> None:
    c = running(restarts=4, lastState={"terminated": {"exitCode": 1, "finishedAt": ago(minutes=5)}})
    older = running("b", restarts=1, lastState={"terminated": {"exitCode": 1, "finishedAt": ago(hours=2)}})
    assert pod_cells(pod(c, older))[2] == "5 (5m ago)"
    assert pod_cells(pod(running(restarts=3)))[2] == "3"


def test_pod_wide_cells() -> None:
    p = SAMPLES[("", "pods")]
    c = cells("", "pods", p)
    assert (c["IP"], c["NODE"], c["NOMINATED NODE"], c["READINESS GATES"]) == (
        "10.0.0.5",
        "node-a",
        "<none>",
        "<none>",
    )
    assert c["AGE"] == "60m"
    bare = cells("", "pods", {"metadata": meta("q"), "spec": {"containers": [{"name": "c"}]}})
    assert (bare["IP"], bare["NODE"], bare["NOMINATED NODE"]) == ("<none>", "<none>", "<none>")


def test_pod_ip_prefers_pod_ips_and_readiness_gates() -> None:
    p = pod(running(), podIPs=[{"ip": "10.1.1.1"}], conditions=[{"type": "example.com/lb", "status": "True"}])
    p["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]
    c = cells("", "pods", p)
    assert (c["IP"], c["READINESS GATES"]) == ("10.1.1.1", "1/2")


def test_pod_wide_columns_have_priority_one() -> None:
    columns = table("", "pods")["columnDefinitions"]
    assert {c["name"]: c["priority"] for c in columns} == {
        "Name": 0,
        "Ready": 0,
        "Status": 0,
        "Restarts": 0,
        "Age": 0,
        "IP": 1,
        "Node": 1,
        "Nominated Node": 1,
        "Readiness Gates": 1,
    }


def test_finished_pods_carry_completed_row_condition() -> None:
    (row,) = table("", "pods", pod(terminated(reason="Completed", exitCode=0), phase="Succeeded"))["rows"]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    (row,) = table("", "pods", pod(running()))["rows"]
    assert "conditions" not in row


# --- services -----------------------------------------------------------------------------


def svc(**spec: Any) -> dict:
    return {"metadata": meta("svc"), "spec": {"clusterIPs": ["10.96.0.10"], **spec}}


@pytest.mark.parametrize(
    ("spec", "ports"),
    [
        ({"ports": [{"port": 80, "protocol": "TCP"}]}, "80/TCP"),
        ({"ports": [{"port": 80}]}, "80/TCP"),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}, "80:30080/TCP"),
        ({"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}, "53/UDP,53/TCP"),
        ({}, "<none>"),
    ],
)
def test_service_ports(spec: dict, ports: str) -> None:
    assert cells("", "services", svc(**spec))["PORT(S)"] == ports


def test_cluster_ip_service() -> None:
    c = cells(
        "", "services", svc(type="ClusterIP", selector={"tier": "web", "app": "shop"}, ports=[{"port": 80}])
    )
    assert c == {
        "NAME": "svc",
        "TYPE": "ClusterIP",
        "CLUSTER-IP": "10.96.0.10",
        "EXTERNAL-IP": "<none>",
        "PORT(S)": "80/TCP",
        "AGE": "60m",
        "SELECTOR": "app=shop,tier=web",
    }


@pytest.mark.parametrize(
    ("spec", "status", "external"),
    [
        ({"type": "NodePort", "externalIPs": ["1.2.3.4", "5.6.7.8"]}, {}, "1.2.3.4,5.6.7.8"),
        ({"type": "LoadBalancer"}, {}, "<pending>"),
        (
            {"type": "LoadBalancer"},
            {"loadBalancer": {"ingress": [{"ip": "9.9.9.9"}, {"hostname": "lb.example"}]}},
            "9.9.9.9,lb.example",
        ),
        (
            {"type": "LoadBalancer", "externalIPs": ["1.1.1.1"]},
            {"loadBalancer": {"ingress": [{"ip": "9.9.9.9"}]}},
            "9.9.9.9,1.1.1.1",
        ),
        ({"type": "ExternalName", "externalName": "db.example.com"}, {}, "db.example.com"),
    ],
)
def test_service_external_ip(spec: dict, status: dict, external: str) -> None:
    assert cells("", "services", {**svc(**spec), "status": status})["EXTERNAL-IP"] == external


def test_headless_service_and_missing_ip() -> None:
    assert cells("", "services", svc(clusterIPs=["None"]))["CLUSTER-IP"] == "None"
    assert (
        cells("", "services", {"metadata": meta("s"), "spec": {"clusterIP": "10.0.0.1"}})["CLUSTER-IP"]
        == "10.0.0.1"
    )
    assert cells("", "services", {"metadata": meta("s"), "spec": {}})["CLUSTER-IP"] == "<none>"


# --- nodes --------------------------------------------------------------------------------


def node(ready: str | None = "True", *, labels: dict | None = None, unschedulable: bool = False) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {
        "metadata": meta("node-a", labels=labels or {}),
        "spec": {"unschedulable": unschedulable},
        "status": {
            "conditions": conditions,
            "nodeInfo": {
                "kubeletVersion": "v1.36.0",
                "osImage": "Debian",
                "kernelVersion": "6.1",
                "containerRuntimeVersion": "containerd://2.0",
            },
            "addresses": [
                {"type": "Hostname", "address": "node-a"},
                {"type": "InternalIP", "address": "192.168.0.2"},
                {"type": "InternalIP", "address": "192.168.0.3"},
            ],
        },
    }


@pytest.mark.parametrize(
    ("ready", "unschedulable", "status"),
    [
        ("True", False, "Ready"),
        ("False", False, "NotReady"),
        ("Unknown", False, "NotReady"),
        (None, False, "Unknown"),
        ("True", True, "Ready,SchedulingDisabled"),
        (None, True, "Unknown,SchedulingDisabled"),
    ],
)
def test_node_status(ready: str | None, unschedulable: bool, status: str) -> None:
    assert cells("", "nodes", node(ready, unschedulable=unschedulable))["STATUS"] == status


@pytest.mark.parametrize(
    ("labels", "roles"),
    [
        ({}, "<none>"),
        ({"node-role.kubernetes.io/control-plane": ""}, "control-plane"),
        ({"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": "true"}, "infra,worker"),
        ({"kubernetes.io/role": "master"}, "master"),
        ({"kubernetes.io/role": ""}, "<none>"),
        ({"node-role.kubernetes.io/": ""}, "<none>"),
        ({"node-role.kubernetes.io/gpu": "", "kubernetes.io/role": "gpu"}, "gpu"),
    ],
)
def test_node_roles(labels: dict, roles: str) -> None:
    assert cells("", "nodes", node(labels=labels))["ROLES"] == roles


def test_node_cells() -> None:
    assert cells("", "nodes", node()) == {
        "NAME": "node-a",
        "STATUS": "Ready",
        "ROLES": "<none>",
        "AGE": "60m",
        "VERSION": "v1.36.0",
        "INTERNAL-IP": "192.168.0.2",
        "EXTERNAL-IP": "<none>",
        "OS-IMAGE": "Debian",
        "KERNEL-VERSION": "6.1",
        "CONTAINER-RUNTIME": "containerd://2.0",
    }


def test_node_without_info_reads_unknown() -> None:
    c = cells("", "nodes", {"metadata": meta("n")})
    assert (c["VERSION"], c["OS-IMAGE"], c["KERNEL-VERSION"], c["CONTAINER-RUNTIME"]) == (
        "",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    )


# --- workloads ----------------------------------------------------------------------------

TEMPLATE = {
    "spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "fluentd"}]}
}
SELECTOR = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
}


def test_deployment_cells() -> None:
    d = {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 1},
    }
    assert list(cells("apps", "deployments", d).values()) == [
        "web",
        "2/3",
        3,
        1,
        "60m",
        "web,log",
        "nginx:1,fluentd",
        "app=web,tier in (a,b)",
    ]


def test_deployment_defaults() -> None:
    c = cells("apps", "deployments", {"metadata": meta("d"), "spec": {}})
    assert (c["READY"], c["UP-TO-DATE"], c["AVAILABLE"], c["SELECTOR"]) == ("0/1", 0, 0, "")


def test_replicaset_cells() -> None:
    rs = {
        "metadata": meta("web-abc"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert list(cells("apps", "replicasets", rs).values()) == [
        "web-abc",
        3,
        3,
        1,
        "60m",
        "web,log",
        "nginx:1,fluentd",
        "app=web",
    ]
    assert (
        cells("apps", "replicasets", {"metadata": meta(), "spec": {"selector": {}}})["SELECTOR"] == "<none>"
    )


def test_daemonset_cells() -> None:
    ds = {
        "metadata": meta("agent"),
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {**TEMPLATE["spec"], "nodeSelector": {"kubernetes.io/os": "linux"}}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 1,
            "numberAvailable": 2,
        },
    }
    assert list(cells("apps", "daemonsets", ds).values()) == [
        "agent",
        3,
        3,
        2,
        1,
        2,
        "kubernetes.io/os=linux",
        "60m",
        "web,log",
        "nginx:1,fluentd",
        "app=agent",
    ]


def test_statefulset_cells() -> None:
    sts = {
        "metadata": meta("db"),
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 3},
    }
    assert list(cells("apps", "statefulsets", sts).values()) == [
        "db",
        "3/3",
        "60m",
        "web,log",
        "nginx:1,fluentd",
    ]


def job(conditions: list[dict] | None = None, **status: Any) -> dict:
    return {
        "metadata": meta("backup"),
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "template": TEMPLATE,
            "selector": {"matchLabels": {"job": "b"}},
        },
        "status": {"conditions": conditions or [], **status},
    }


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([], "Running"),
        ([{"type": "Complete", "status": "True"}], "Complete"),
        ([{"type": "Failed", "status": "True"}], "Failed"),
        ([{"type": "Suspended", "status": "True"}], "Suspended"),
        ([{"type": "FailureTarget", "status": "True"}], "FailureTarget"),
        ([{"type": "SuccessCriteriaMet", "status": "True"}], "SuccessCriteriaMet"),
        ([{"type": "Complete", "status": "False"}], "Running"),
        (
            [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}],
            "Complete",
        ),
    ],
)
def test_job_status(conditions: list[dict], expected: str) -> None:
    assert cells("batch", "jobs", job(conditions))["STATUS"] == expected


def test_terminating_job() -> None:
    j = job([{"type": "Suspended", "status": "True"}])
    j["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert cells("batch", "jobs", j)["STATUS"] == "Terminating"


def test_job_completions_and_duration() -> None:
    finished = job(succeeded=1, startTime=ago(minutes=10), completionTime=ago(minutes=6, seconds=40))
    c = cells("batch", "jobs", finished)
    assert (c["COMPLETIONS"], c["DURATION"]) == ("1/1", "3m20s")
    assert cells("batch", "jobs", job(startTime=ago(seconds=42)))["DURATION"] == "42s"
    assert cells("batch", "jobs", job())["DURATION"] == ""
    parallel = job(succeeded=2)
    parallel["spec"] = {"parallelism": 3}
    assert cells("batch", "jobs", parallel)["COMPLETIONS"] == "2/1 of 3"
    parallel["spec"] = {"completions": 5, "parallelism": 3}
    assert cells("batch", "jobs", parallel)["COMPLETIONS"] == "2/5"
    assert cells("batch", "jobs", job())["SELECTOR"] == "job=b"


def test_cronjob_cells() -> None:
    cj = {
        "metadata": meta("nightly"),
        "spec": {
            "schedule": "0 3 * * *",
            "timeZone": "Europe/Paris",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ago(hours=9)},
    }
    assert list(cells("batch", "cronjobs", cj).values()) == [
        "nightly",
        "0 3 * * *",
        "Europe/Paris",
        "False",
        1,
        "9h",
        "60m",
        "web,log",
        "nginx:1,fluentd",
        "<none>",
    ]
    bare = cells("batch", "cronjobs", {"metadata": meta(), "spec": {"schedule": "@hourly", "suspend": True}})
    assert (bare["TIMEZONE"], bare["SUSPEND"], bare["ACTIVE"], bare["LAST SCHEDULE"]) == (
        "<none>",
        "True",
        0,
        "<none>",
    )


def test_controllerrevision_cells() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": True}
    cr = {"metadata": meta("db-7f", ownerReferences=[owner]), "revision": 2}
    assert list(cells("apps", "controllerrevisions", cr).values()) == [
        "db-7f",
        "statefulset.apps/db",
        2,
        "60m",
    ]


# --- config, identity, networking, events -------------------------------------------------


def test_namespace_configmap_secret_serviceaccount_lease() -> None:
    assert list(
        cells("", "namespaces", {"metadata": meta("shop"), "status": {"phase": "Active"}}).values()
    ) == [
        "shop",
        "Active",
        "60m",
    ]
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert list(cells("", "configmaps", cm).values()) == ["cfg", 3, "60m"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert list(cells("", "secrets", secret).values()) == ["tls", "kubernetes.io/tls", 2, "60m"]
    assert cells("", "secrets", {"metadata": meta("s")})["TYPE"] == "Opaque"
    sa = {"metadata": meta("default"), "secrets": [{"name": "tok"}]}
    assert list(cells("", "serviceaccounts", sa).values()) == ["default", 1, "60m"]
    lease = {"metadata": meta("node-a"), "spec": {"holderIdentity": "node-a"}}
    assert list(cells("coordination.k8s.io", "leases", lease).values()) == ["node-a", "node-a", "60m"]
    assert cells("coordination.k8s.io", "leases", {"metadata": meta("l"), "spec": {}})["HOLDER"] == ""


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], "10.0.0.1:80"),
        ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}], "10.0.0.1,10.0.0.2"),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 443}]}], "[fd00::1]:443"),
        (
            [
                {
                    "addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 4)],
                    "ports": [{"port": 80}, {"port": 81}],
                }
            ],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...",
        ),
        ([{"notReadyAddresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 80}]}], ""),
    ],
)
def test_endpoints(subsets: list[dict], expected: str) -> None:
    assert cells("", "endpoints", {"metadata": meta("svc"), "subsets": subsets})["ENDPOINTS"] == expected


def test_endpointslice_cells() -> None:
    es = {
        "metadata": meta("svc-abc"),
        "addressType": "IPv4",
        "ports": [{"port": 80, "name": "http"}, {"name": "metrics"}, {}, {"port": 9000}],
        "endpoints": [
            {"addresses": ["10.0.0.1"]},
            {"addresses": ["10.0.0.2", "10.0.0.3"]},
            {"addresses": ["10.0.0.4"]},
        ],
    }
    assert list(cells("discovery.k8s.io", "endpointslices", es).values()) == [
        "svc-abc",
        "IPv4",
        "80,metrics,* + 1 more...",
        "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
        "60m",
    ]
    empty = cells("discovery.k8s.io", "endpointslices", {"metadata": meta(), "addressType": "IPv6"})
    assert (empty["PORTS"], empty["ENDPOINTS"]) == ("<unset>", "<unset>")


def test_core_event_cells() -> None:
    ev = {
        "metadata": meta("web-1.17a"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "reason": "BackOff",
        "message": "  Back-off restarting failed container\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": ago(minutes=30),
        "lastTimestamp": ago(seconds=40),
        "count": 12,
    }
    assert cells("", "events", ev) == {
        "LAST SEEN": "40s",
        "TYPE": "Warning",
        "REASON": "BackOff",
        "OBJECT": "pod/web-1",
        "SUBOBJECT": "spec.containers{web}",
        "SOURCE": "kubelet, node-a",
        "MESSAGE": "Back-off restarting failed container",
        "FIRST SEEN": "30m",
        "COUNT": 12,
        "NAME": "web-1.17a",
    }
    assert [c["name"] for c in table("", "events")["columnDefinitions"] if c["priority"] == 0] == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Message",
    ]


def test_event_times_fall_back_to_event_time_and_series() -> None:
    ev = {
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2024-06-01T11:58:00.000000Z",
    }
    c = cells("", "events", ev)
    assert (c["LAST SEEN"], c["FIRST SEEN"], c["COUNT"], c["OBJECT"]) == ("2m", "2m", 1, "node")
    ev["series"] = {"count": 4, "lastObservedTime": "2024-06-01T11:59:50.000000Z"}
    c = cells("", "events", ev)
    assert (c["LAST SEEN"], c["COUNT"]) == ("10s", 4)


def test_events_k8s_io_event_uses_core_columns() -> None:
    ev = {
        "metadata": meta("web-1.17b"),
        "regarding": {"kind": "Pod", "name": "web-1"},
        "note": "Scheduled to node-a",
        "reason": "Scheduled",
        "type": "Normal",
        "reportingController": "default-scheduler",
        "reportingInstance": "sched-1",
        "eventTime": ago(minutes=4),
    }
    c = cells("events.k8s.io", "events", ev)
    assert (c["OBJECT"], c["MESSAGE"], c["SOURCE"], c["LAST SEEN"]) == (
        "pod/web-1",
        "Scheduled to node-a",
        "default-scheduler, sched-1",
        "4m",
    )
    (row,) = table("events.k8s.io", "events", ev, include_object="Object")["rows"]
    assert row["object"] is ev
