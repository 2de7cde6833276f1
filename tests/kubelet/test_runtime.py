"""The CRI-shaped runtime and the CNI plugin over node-state rows, with an injected clock."""

from __future__ import annotations

import pytest

from kubeviz.kubelet.cni.plugin import CNI, CNIError
from kubeviz.kubelet.models import Container, IPAllocation
from kubeviz.kubelet.runtime.behaviour import behaviour
from kubeviz.kubelet.runtime.service import Runtime, image_size, normalise_image

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pod(name: str, *, uid: str = "", host_network: bool = False) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "uid": uid or f"uid-{name}"},
        "spec": {"hostNetwork": host_network, "containers": [{"name": "c", "image": "busybox"}]},
    }


def runtime(clock: Clock, cidr: str = "10.244.1.0/24", flavour: str = "flannel") -> Runtime:
    cni = CNI(cluster="c1", node="worker-1", flavour=flavour, pod_cidr=cidr)
    return Runtime(cluster="c1", node="worker-1", clock=clock, cni=cni)


def test_sandbox_gets_an_ip_from_the_pod_cidr_round_robin() -> None:
    clock = Clock()
    rt = runtime(clock)
    a = rt.run_pod_sandbox(pod=pod("a"))
    b = rt.run_pod_sandbox(pod=pod("b"))
    assert (a.ip, b.ip) == ("10.244.1.2", "10.244.1.3")  # .1 belongs to cni0
    assert a.interface.startswith("veth") and len(a.interface) == 12
    rt.remove_pod_sandbox(a)
    c = rt.run_pod_sandbox(pod=pod("c"))
    assert c.ip == "10.244.1.4"  # host-local does not hand a freed address straight back
    assert IPAllocation.objects.count() == 2


def test_calico_and_cilium_name_their_devices() -> None:
    clock = Clock()
    assert runtime(clock, flavour="calico").run_pod_sandbox(pod=pod("x")).interface.startswith("cali")
    rt = Runtime(
        cluster="c1", node="worker-2", clock=clock, cni=CNI("c1", "worker-2", "cilium", "10.244.2.0/24")
    )
    assert rt.run_pod_sandbox(pod=pod("y")).interface.startswith("lxc")


def test_host_network_pods_need_no_cni_and_no_pod_cidr() -> None:
    rt = runtime(Clock(), cidr="")
    sandbox = rt.run_pod_sandbox(pod=pod("h", host_network=True))
    assert sandbox.ip == "" and IPAllocation.objects.count() == 0


def test_no_pod_cidr_is_a_cni_error_that_leaves_nothing() -> None:
    rt = runtime(Clock(), cidr="")
    with pytest.raises(CNIError, match="no podCIDR"):
        rt.run_pod_sandbox(pod=pod("a"))
    assert rt.sandboxes() == []


def test_a_full_range_says_so() -> None:
    rt = runtime(Clock(), cidr="10.244.9.0/30")  # .1 gateway, .2 the only pod address
    rt.run_pod_sandbox(pod=pod("a"))
    with pytest.raises(CNIError, match="no IP addresses available"):
        rt.run_pod_sandbox(pod=pod("b"))


def test_pull_takes_time_and_is_cached_per_node() -> None:
    clock = Clock()
    rt = runtime(clock)
    image = rt.pull_image("nginx")
    assert image.name == "docker.io/library/nginx:latest"
    assert image.pulled_at > clock.now
    assert rt.images() == []  # not usable until the pull ends
    clock.now = image.pulled_at
    assert [i.name for i in rt.images()] == ["docker.io/library/nginx:latest"]
    assert rt.pull_image("nginx:latest").pk == image.pk


def test_containers_exit_when_their_behaviour_says() -> None:
    clock = Clock()
    rt = runtime(clock)
    sandbox = rt.run_pod_sandbox(pod=pod("a"))
    spec = {"name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 2"]}
    plan = behaviour(spec)
    c = rt.create_container(sandbox=sandbox, spec=spec, attempt=0, behaviour=plan)
    rt.start_container(c, behaviour=plan, spec=spec)
    clock.now += 1
    assert rt.list_containers(sandbox=sandbox)[0].state == Container.RUNNING
    clock.now += 5  # looked at late: the exit is dated when it happened
    (after,) = rt.list_containers(sandbox=sandbox)
    assert (after.state, after.exit_code, after.finished_at) == (Container.EXITED, 0, 1002.0)
    assert [line for _, line in after.log] == ["starting: sleep 2", "exited with code 0"]


def test_stop_gives_sigterm_then_kills_after_the_grace_period() -> None:
    clock = Clock()
    rt = runtime(clock)
    sandbox = rt.run_pod_sandbox(pod=pod("a"))
    spec = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
    plan = behaviour(spec)
    c = rt.create_container(sandbox=sandbox, spec=spec, attempt=0, behaviour=plan)
    rt.start_container(c, behaviour=plan, spec=spec)
    rt.stop_container(c, timeout=30, handles_sigterm=False)
    clock.now += 29
    assert rt.list_containers(sandbox=sandbox)[0].state == Container.RUNNING
    clock.now += 1
    (killed,) = rt.list_containers(sandbox=sandbox)
    assert (killed.state, killed.exit_code) == (Container.EXITED, 137)


def test_stop_pod_sandbox_releases_the_address() -> None:
    rt = runtime(Clock())
    sandbox = rt.run_pod_sandbox(pod=pod("a"))
    rt.stop_pod_sandbox(sandbox)
    rt.stop_pod_sandbox(sandbox)  # DEL twice is fine
    assert IPAllocation.objects.count() == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
)
def test_image_references_are_normalised(given: str, stored: str) -> None:
    assert normalise_image(given) == stored


def test_image_sizes_are_stable_and_plausible() -> None:
    assert image_size("docker.io/library/nginx:latest") == image_size("docker.io/library/nginx:latest")
    assert 5_000_000 <= image_size("example.com/some/app:1") < 150_000_000
