"""The nodes made real: kubelets, the runtime, CNI, kube-proxy, the network daemons and coredns.

Every test drives a whole kubeviz (see ``conftest.py``) through real kubectl and the explorer
API, and reads the outcome back through the API and the node state the explorer shows.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
import yaml

from kubeviz.client import DEPLOYMENTS, EVENTS, JOBS, NODES, PODS, SERVICES
from kubeviz.client.watching import watch
from tests.machines.conftest import Cluster, Stack, wait

pytestmark = [pytest.mark.live, pytest.mark.kubectl]

BOOT_TIMEOUT = 150
WORKLOAD_TIMEOUT = 150


def ready_nodes(c: Cluster) -> list[dict[str, Any]]:
    nodes = c.client.list(NODES).items
    return [
        n
        for n in nodes
        if any(
            x["type"] == "Ready" and x["status"] == "True"
            for x in (n.get("status") or {}).get("conditions", [])
        )
    ]


def running_pods(c: Cluster, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    pods = c.client.list(PODS, namespace=namespace, label_selector=selector or None).items
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


def booted(stack: Stack, flavour: str) -> Cluster:
    """Wait until every node is Ready and coredns answers (both replicas Running)."""
    c = stack.clusters[flavour]
    count = sum(1 for _ in c.machines())
    wait(lambda: len(ready_nodes(c)) == count, timeout=BOOT_TIMEOUT, what=f"{count} Ready nodes", stack=stack)
    wait(lambda: len([p for p in running_pods(c, "kube-system", "k8s-app=kube-dns") if is_ready(p)]) == 2,
         timeout=BOOT_TIMEOUT, what="coredns Ready", stack=stack)  # fmt: skip
    return c


def apply(c: Cluster, *docs: dict[str, Any]) -> None:
    path = c.workdir / f"apply-{c.name}.yaml"
    path.write_text(yaml.safe_dump_all(list(docs)))
    c.kubectl("apply", "-f", str(path))


def web(name: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    container = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container], **pod_spec},
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 80}]},
    }


# --- boot ----------------------------------------------------------------------------------------


def test_a_fresh_cluster_boots_like_kubeadm(stack: Stack) -> None:
    c = booted(stack, "flannel")
    nodes = ready_nodes(c)
    assert sorted(n["metadata"]["name"] for n in nodes) == ["master-1", "worker-1", "worker-2", "worker-3"]
    cidrs = [n["spec"]["podCIDR"] for n in nodes]
    assert len(set(cidrs)) == 4
    master = next(n for n in nodes if n["metadata"]["name"] == "master-1")
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in master["spec"][
        "taints"
    ]
    assert master["status"]["allocatable"]["cpu"] == "4" and master["status"]["allocatable"]["pods"] == "110"

    system = running_pods(c, "kube-system")
    names = {p["metadata"]["name"] for p in system}
    for static in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert f"{static}-master-1" in names
    on_node: dict[str, set[str]] = {}
    for p in system + running_pods(c, "kube-flannel"):
        on_node.setdefault(p["spec"]["nodeName"], set()).add(
            p["metadata"]["labels"].get("k8s-app") or p["metadata"]["labels"].get("app", "")
        )
    for node in ("master-1", "worker-1", "worker-2", "worker-3"):
        assert {"kube-proxy", "flannel"} <= on_node[node], node
    coredns = running_pods(c, "kube-system", "k8s-app=kube-dns")
    assert all(p["spec"]["nodeName"].startswith("worker-") for p in coredns)

    machines = c.machines()
    master_components = {x["name"]: x["running"] for x in machines["master-1"]["components"]}
    assert master_components == {
        "etcd": True, "kube-apiserver": True, "kube-controller-manager": True, "kube-scheduler": True,
        "kubelet": True, "kube-proxy": True, "flanneld": True,
    }  # fmt: skip
    with_dns = [m for m in machines.values() if any(x["name"] == "coredns" for x in m["components"])]
    assert len(with_dns) >= 1 and all(m["role"] == "worker" for m in with_dns)


def test_pods_go_through_container_creating_and_get_ips_from_their_node(stack: Stack) -> None:
    c = booted(stack, "flannel")
    seen: dict[str, set[str]] = {}
    since = c.client.list(PODS, namespace="default").resource_version
    apply(c, web("hello", 3))

    def reasons() -> bool:
        with watch(
            c.client,
            PODS,
            namespace="default",
            resource_version=since,
            label_selector="app=hello",
            timeout_seconds=90,
        ) as events:
            return follow(events)

    def follow(events: Any) -> bool:
        for event in events:
            pod = event.object
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            state = statuses[0]["state"] if statuses else {}
            label = (
                "Running"
                if "running" in state
                else (state.get("waiting") or {}).get("reason") or pod["status"].get("phase", "")
            )
            seen.setdefault(pod["metadata"]["name"], set()).add(label)
            if sum(1 for s in seen.values() if "Running" in s) == 3:
                return True
        return False

    assert reasons()
    assert any("ContainerCreating" in s for s in seen.values()), seen
    cidrs = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in c.client.list(NODES).items}
    for pod in running_pods(c, "default", "app=hello"):
        ip = ipaddress.ip_address(pod["status"]["podIP"])
        assert ip in ipaddress.ip_network(cidrs[pod["spec"]["nodeName"]])
    events = {
        e["reason"]
        for e in c.client.list(EVENTS, namespace="default").items
        if e["source"].get("component") == "kubelet"
    }
    assert {"Pulling", "Pulled", "Created", "Started"} <= events

    pod = running_pods(c, "default", "app=hello")[0]["metadata"]["name"]
    logs = c.kubectl("logs", pod).stdout
    assert "starting: nginx:1.27 (image entrypoint)" in logs and "listening on 0.0.0.0:80/TCP" in logs


# --- restarts and jobs ---------------------------------------------------------------------------


def test_a_failing_container_reaches_crash_loop_back_off(stack: Stack) -> None:
    c = booted(stack, "flannel")
    c.kubectl("run", "crasher", "--image=busybox", "--restart=Always", "--", "sh", "-c", "exit 1")

    def looping() -> Any:
        pod = c.client.get(PODS, "crasher", namespace="default")
        status = (pod.get("status") or {}).get("containerStatuses") or [{}]
        waiting = (status[0].get("state") or {}).get("waiting") or {}
        return (
            waiting.get("reason") == "CrashLoopBackOff"
            and status[0].get("restartCount", 0) >= 2
            and status[0]
        )

    first = wait(looping, timeout=WORKLOAD_TIMEOUT, what="CrashLoopBackOff with restarts", stack=stack)
    assert first["lastState"]["terminated"]["exitCode"] == 1
    # The back-off doubles (10 s, 20 s, 40 s at speed 1; divided by the cluster's speed), so the count keeps rising.
    wait(
        lambda: (
            c.client.get(PODS, "crasher", namespace="default")["status"]["containerStatuses"][0][
                "restartCount"
            ]
            > first["restartCount"]
        ),
        timeout=WORKLOAD_TIMEOUT,
        what="another restart",
        stack=stack,
    )
    reasons = [
        e["reason"]
        for e in c.client.list(EVENTS, namespace="default").items
        if e["involvedObject"]["name"] == "crasher"
    ]
    assert "BackOff" in reasons
    c.kubectl("delete", "pod", "crasher", "--wait=false")


def test_a_job_running_sleep_2_completes(stack: Stack) -> None:
    c = booted(stack, "flannel")
    c.kubectl("create", "job", "nap", "--image=busybox", "--", "sleep", "2")
    wait(
        lambda: (c.client.get(JOBS, "nap", namespace="default").get("status") or {}).get("succeeded") == 1,
        timeout=WORKLOAD_TIMEOUT,
        what="the Job to complete",
        stack=stack,
    )
    pods = c.client.list(PODS, namespace="default", label_selector="job-name=nap").items
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")


# --- services: rules, DNS, traces ----------------------------------------------------------------


def test_a_service_gets_rules_on_every_node_resolves_and_traces_to_a_pod(stack: Stack) -> None:
    c = booted(stack, "flannel")
    apply(c, web("shop", 3), service("shop"))
    c.kubectl("rollout", "status", "deployment/shop", "--timeout=150s")
    cluster_ip = c.client.get(SERVICES, "shop", namespace="default")["spec"]["clusterIP"]

    def rules_everywhere() -> bool:
        for node in ("master-1", "worker-1", "worker-2", "worker-3"):
            rules = c.api("GET", f"/machines/{node}/proxy-rules").json()
            entry = [s for s in rules["services"] if s["clusterIP"] == cluster_ip]
            if not entry or len(entry[0]["endpoints"]) != 3:
                return False
            assert "KUBE-SVC-" in rules["text"] and "statistic --mode random --probability" in rules["text"]
        return True

    wait(rules_everywhere, timeout=WORKLOAD_TIMEOUT, what="the Service's rules on every node", stack=stack)

    client_pod = running_pods(c, "default", "app=shop")[0]
    source = f"default/{client_pod['metadata']['name']}"
    answer = c.api("GET", "/dns", params={"name": "shop", "from": source}).json()
    assert answer.get("status") == "NOERROR", answer.get("message", answer)
    assert [a["value"] for a in answer["answers"]] == [cluster_ip]
    assert answer["tries"][0]["name"] == "shop.default.svc.cluster.local."
    assert answer["server"]["pod"].startswith("kube-system/coredns-")

    # From a pod on one node, trace to the Service until the chosen endpoint lives elsewhere.
    for seed in range(40):
        trace = c.api("GET", "/trace", params={"from": source, "to": "shop:80", "seed": str(seed)}).json()
        hops = [h["hop"] for h in trace["hops"]]
        assert hops == ["source", "dns", "kube-proxy", "route", "node", "veth", "pod"], trace
        if trace["hops"][4]["node"] != client_pod["spec"]["nodeName"]:
            break
    else:
        pytest.fail("no trace crossed to another node in 40 tries")
    proxy, route, pod = trace["hops"][2], trace["hops"][3], trace["hops"][6]
    assert proxy["serviceChain"].startswith("KUBE-SVC-") and proxy["endpointChain"].startswith("KUBE-SEP-")
    assert [round(x["probability"], 4) for x in proxy["candidates"]] == [0.3333, 0.5, 1.0]
    assert route["dev"] == "flannel.1" and route.get("encapsulation", "vxlan") == "vxlan"
    assert pod["pod"].startswith("default/shop-") and pod["port"] == 80
    assert trace["hops"][5]["interface"].startswith("veth")


def test_dns_fails_when_coredns_is_scaled_to_zero(stack: Stack) -> None:
    c = booted(stack, "flannel")
    source_pod = running_pods(c, "kube-system", "k8s-app=kube-proxy")[0]
    apply(c, web("dnsprobe", 1))
    c.kubectl("rollout", "status", "deployment/dnsprobe", "--timeout=150s")
    source = f"default/{running_pods(c, 'default', 'app=dnsprobe')[0]['metadata']['name']}"
    assert source_pod  # kube-proxy runs, so the failure below is coredns's
    try:
        c.kubectl("scale", "-n", "kube-system", "deployment/coredns", "--replicas=0")
        failed = wait(
            lambda: (
                (r := c.api("GET", "/dns", params={"name": "kubernetes", "from": source})).status_code != 200
                and r
            ),
            timeout=WORKLOAD_TIMEOUT,
            what="DNS to fail",
            stack=stack,
        )
        body = failed.json()
        assert body["kind"] == "Status" and body["details"]["name"] == "dns"
        assert "DNS down" in body["message"]
    finally:
        c.kubectl("scale", "-n", "kube-system", "deployment/coredns", "--replicas=2")
    wait(
        lambda: c.api("GET", "/dns", params={"name": "kubernetes", "from": source}).json().get("answers"),
        timeout=WORKLOAD_TIMEOUT,
        what="DNS to answer again",
        stack=stack,
    )


# --- failures --------------------------------------------------------------------------------------


def node_ready(c: Cluster, name: str) -> str:
    node = c.client.get(NODES, name)
    return next(x["status"] for x in node["status"]["conditions"] if x["type"] == "Ready")


def test_stopping_a_worker_moves_its_pods_and_starting_it_brings_it_back(stack: Stack) -> None:
    c = booted(stack, "flannel")
    apply(c, web("spread", 6))
    c.kubectl("rollout", "status", "deployment/spread", "--timeout=150s")
    resp = c.api("PATCH", "/machines/worker-2", json={"running": False})
    assert resp.status_code == 200 and resp.json()["running"] is False
    wait(lambda: node_ready(c, "worker-2") != "True", timeout=60, what="worker-2 NotReady", stack=stack)

    def replaced() -> bool:
        pods = running_pods(c, "default", "app=spread")
        return len(pods) == 6 and all(p["spec"]["nodeName"] != "worker-2" for p in pods)

    wait(replaced, timeout=90, what="6 pods Running off worker-2", stack=stack)
    assert c.api("PATCH", "/machines/worker-2", json={"running": True}).status_code == 200
    wait(lambda: node_ready(c, "worker-2") == "True", timeout=90, what="worker-2 Ready again", stack=stack)
    c.kubectl("delete", "deployment", "spread", "--wait=false")


def test_stopping_the_kubelet_alone_has_the_same_effect(stack: Stack) -> None:
    c = booted(stack, "flannel")
    apply(c, web("solo", 4))
    c.kubectl("rollout", "status", "deployment/solo", "--timeout=150s")
    resp = c.api("PATCH", "/machines/worker-3/components/kubelet", json={"running": False})
    assert resp.status_code == 200
    assert {x["name"]: x["running"] for x in resp.json()["components"]}["kubelet"] is False
    wait(lambda: node_ready(c, "worker-3") != "True", timeout=60, what="worker-3 NotReady", stack=stack)
    wait(
        lambda: (
            len([p for p in running_pods(c, "default", "app=solo") if p["spec"]["nodeName"] != "worker-3"])
            == 4
        ),
        timeout=90,
        what="4 pods Running off worker-3",
        stack=stack,
    )
    c.api("PATCH", "/machines/worker-3/components/kubelet", json={"running": True})
    wait(lambda: node_ready(c, "worker-3") == "True", timeout=90, what="worker-3 Ready again", stack=stack)
    c.kubectl("delete", "deployment", "solo", "--wait=false")


def test_deleting_the_kube_proxy_daemonset_stops_rule_programming(stack: Stack) -> None:
    c = booted(stack, "cilium")
    apply(c, web("before", 1), service("before"))
    c.kubectl("rollout", "status", "deployment/before", "--timeout=150s")
    ip = c.client.get(SERVICES, "before", namespace="default")["spec"]["clusterIP"]

    def has(node: str, cip: str) -> bool:
        rules = c.api("GET", f"/machines/{node}/proxy-rules").json()
        return any(s["clusterIP"] == cip for s in rules["services"])

    wait(
        lambda: has("worker-1", ip), timeout=WORKLOAD_TIMEOUT, what="rules for the first Service", stack=stack
    )
    c.kubectl("delete", "daemonset", "-n", "kube-system", "kube-proxy")
    wait(
        lambda: not running_pods(c, "kube-system", "k8s-app=kube-proxy"),
        timeout=WORKLOAD_TIMEOUT,
        what="kube-proxy pods to go",
        stack=stack,
    )
    time.sleep(2)  # the machines process notices within half a second that the pods are gone
    apply(c, service("after"))
    after = c.client.get(SERVICES, "after", namespace="default")["spec"]["clusterIP"]
    time.sleep(3)  # long enough for a running kube-proxy to have synced many times over
    assert not has("worker-1", after) and has("worker-1", ip)  # old rules stay, as in the kernel


# --- the other flavours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavour", "device", "encapsulation"), [("calico", "tunl0", "ipip"), ("cilium", "cilium_host", "vxlan")]
)
def test_other_cni_flavours_route_and_name_devices(
    stack: Stack, flavour: str, device: str, encapsulation: str
) -> None:
    c = booted(stack, flavour)
    nodes = c.client.list(NODES).items
    routes = c.api("GET", "/machines/worker-1/routes").json()
    assert routes["synced"] and routes["encapsulation"] == encapsulation
    assert len(routes["routes"]) == len(nodes) - 1
    assert {r["dev"] for r in routes["routes"]} == {device}
    if flavour == "calico":
        assert all(r["proto"] == "bird" for r in routes["routes"])
    apply(c, web("app", 2), service("app"))
    c.kubectl("rollout", "status", "deployment/app", "--timeout=150s")
    prefix = {"calico": "cali", "cilium": "lxc"}[flavour]
    first, second = running_pods(c, "default", "app=app")[:2]
    # Straight to the other pod's address: no kube-proxy on the way, only the network.
    target = f"{second['status']['podIP']}:80"
    trace = c.api(
        "GET", "/trace", params={"from": f"default/{first['metadata']['name']}", "to": target}
    ).json()
    assert [h["hop"] for h in trace["hops"]] == ["source", "route", "node", "veth", "pod"], trace
    assert trace["hops"][-2]["interface"].startswith(prefix), trace


def test_ipvs_mode_renders_virtual_servers(stack: Stack) -> None:
    c = booted(stack, "calico")
    apply(c, web("lb", 2), service("lb"))
    c.kubectl("rollout", "status", "deployment/lb", "--timeout=150s")
    ip = c.client.get(SERVICES, "lb", namespace="default")["spec"]["clusterIP"]

    def virtual_server() -> Any:
        rules = c.api("GET", "/machines/worker-2/proxy-rules").json()
        return rules["mode"] == "ipvs" and f"TCP  {ip}:80 rr" in rules["text"] and rules

    rules = wait(virtual_server, timeout=WORKLOAD_TIMEOUT, what="an IPVS virtual server", stack=stack)
    assert rules["text"].count("-> 10.244.") >= 2 and "Masq" in rules["text"]
    assert c.client.get(DEPLOYMENTS, "lb", namespace="default")["status"]["readyReplicas"] == 2


def test_stopping_kube_scheduler_on_the_only_master_leaves_new_pods_pending(stack: Stack) -> None:
    c = booted(stack, "calico")
    off = c.api("PATCH", "/machines/master-1/components/kube-scheduler", json={"running": False})
    assert off.status_code == 200
    try:
        wait(
            lambda: (
                not next(x for x in c.machines()["master-1"]["components"] if x["name"] == "kube-scheduler")[
                    "running"
                ]
            ),
            timeout=60,
            what="the kube-scheduler static pod to stop",
            stack=stack,
        )
        time.sleep(3)  # the Lease (3 s at this speed) runs out: no scheduler is left
        c.kubectl("run", "waiting", "--image=busybox", "--", "sleep", "3600")
        time.sleep(3)
        assert not c.client.get(PODS, "waiting", namespace="default")["spec"].get("nodeName")
    finally:
        c.api("PATCH", "/machines/master-1/components/kube-scheduler", json={"running": True})
    wait(
        lambda: c.client.get(PODS, "waiting", namespace="default")["spec"].get("nodeName"),
        timeout=WORKLOAD_TIMEOUT,
        what="the pod to be scheduled once kube-scheduler is back",
        stack=stack,
    )


def restarts(c: Cluster, name: str) -> int:
    statuses = (c.client.get(PODS, name, namespace="default").get("status") or {}).get(
        "containerStatuses"
    ) or [{}]
    return int(statuses[0].get("restartCount") or 0)


def test_a_failing_liveness_probe_restarts_the_container(stack: Stack) -> None:
    c = booted(stack, "flannel")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "sick",
            "namespace": "default",
            "annotations": {"kubeviz.io/fail-liveness": "true"},
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "livenessProbe": {
                        "httpGet": {"path": "/", "port": 80},
                        "periodSeconds": 1,
                        "failureThreshold": 2,
                    },
                }
            ]
        },
    }
    apply(c, pod)
    wait(
        lambda: restarts(c, "sick") >= 1,
        timeout=WORKLOAD_TIMEOUT,
        what="a restart after the liveness probe failed",
        stack=stack,
    )
    events = [
        e for e in c.client.list(EVENTS, namespace="default").items if e["involvedObject"]["name"] == "sick"
    ]
    messages = {e["reason"]: e["message"] for e in events}
    assert messages["Unhealthy"] == "Liveness probe failed: HTTP probe failed with statuscode: 503"
    assert messages["Killing"] == "Container app failed liveness probe, will be restarted"
    c.kubectl("delete", "pod", "sick", "--wait=false")
