from fractions import Fraction

import pytest

from kubeviz.scheduler.framework import quantity
from kubeviz.scheduler.framework.types import NodeInfo, pod_requests


@pytest.mark.parametrize(
    ("text", "milli", "value"),
    [
        ("100m", 100, 1),
        ("2", 2000, 2),
        ("0.5", 500, 1),
        ("128Mi", 128 * 2**20 * 1000, 128 * 2**20),
        ("1G", 10**12, 10**9),
        ("1Gi", 2**30 * 1000, 2**30),
        ("1e3", 10**6, 1000),
        ("110", 110000, 110),
    ],
)
def test_parse(text: str, milli: int, value: int) -> None:
    assert quantity.milli_value(text) == milli
    assert quantity.value(text) == value


@pytest.mark.parametrize("text", ["", "1x", "Mi", "1.2.3"])
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        quantity.parse(text)


def test_parse_is_exact() -> None:
    assert quantity.parse("1.5Ki") == Fraction(1536)


def test_pod_requests_take_the_larger_of_containers_and_init_containers() -> None:
    pod = {
        "spec": {
            "containers": [{"resources": {"requests": {"cpu": "200m", "memory": "1Gi"}}}] * 2,
            "initContainers": [
                {"resources": {"requests": {"cpu": "1", "memory": "100Mi"}}},
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
            ],
            "overhead": {"cpu": "10m"},
        }
    }
    got = pod_requests(pod)
    assert (got.milli_cpu, got.memory) == (1010, 2 * 2**30)


def test_node_info_sums_requests_and_non_zero_defaults() -> None:
    node = {"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "2", "pods": "3"}}}
    info = NodeInfo.build(
        node,
        [
            {"spec": {"containers": [{}]}},
            {"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}},
        ],
    )
    assert (info.requested.milli_cpu, info.requested.memory) == (1000, 0)
    assert (info.non_zero_requested.milli_cpu, info.non_zero_requested.memory) == (1100, 2 * 200 * 2**20)
    assert (info.allocatable.milli_cpu, info.allocatable.allowed_pods) == (2000, 3)
