"""Table-driven tests for kube-proxy's pure rule rendering.

Expected chain names and rule lines that upstream pins are copied from
``pkg/proxy/iptables/proxier_test.go`` fixtures (``ns1/svc1:p80`` -> ``KUBE-SVC-XPGD46QRK7WJZT7O``
and friends), so a drift from upstream's hashing or argument order fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.proxy import iptables, ipvs
from kubeviz.proxy.model import Endpoint, ServicePort, build_service_ports

NODE = "node-a"


def service(name: str, *, ports: list[dict[str, Any]], cluster_ip: str = "10.96.0.10", **spec: Any) -> dict:
    """Return a Service as the API serves it."""
    return {
        "kind": "Service",
        "metadata": {"namespace": "ns1", "name": name},
        "spec": {"clusterIP": cluster_ip, "ports": ports, **spec},
    }


def slice_(svc: str, *, ports: list[dict[str, Any]], endpoints: list[dict[str, Any]], name: str = "") -> dict:
    """Return an EndpointSlice labelled for ``svc``."""
    return {
        "kind": "EndpointSlice",
        "metadata": {
            "namespace": "ns1",
            "name": name or f"{svc}-abc",
            "labels": {"kubernetes.io/service-name": svc},
        },
        "addressType": "IPv4",
        "ports": ports,
        "endpoints": endpoints,
    }


def ep(ip: str, *, ready: bool | None = True, node: str = "node-b") -> dict[str, Any]:
    """Return a slice endpoint; ``ready=None`` leaves the condition unset."""
    conditions = {} if ready is None else {"ready": ready}
    return {"addresses": [ip], "conditions": conditions, "nodeName": node}


def sp(*ips: str, node_port: int = 0, name: str = "svc1", port_name: str = "p80") -> ServicePort:
    """Return a TCP service port on 172.30.0.41:80 backed by ``ips`` on port 80."""
    return ServicePort(
        namespace="ns1",
        name=name,
        port_name=port_name,
        protocol="TCP",
        cluster_ip="172.30.0.41",
        port=80,
        node_port=node_port,
        endpoints=tuple(Endpoint(ip=ip, port=80) for ip in ips),
    )


# --- model -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("services", "slices", "expected"),
    [
        pytest.param(
            [service("web", ports=[{"name": "http", "port": 80, "targetPort": 8080}])],
            [
                slice_(
                    "web",
                    ports=[{"name": "http", "port": 8080, "protocol": "TCP"}],
                    endpoints=[ep("10.244.1.5"), ep("10.244.1.6", ready=False), ep("10.244.1.7", ready=None)],
                )
            ],
            {("ns1/web:http", 80): ["10.244.1.5:8080", "10.244.1.7:8080"]},
            id="ready-false-dropped-unset-kept",
        ),
        pytest.param(
            [service("web", ports=[{"name": "http", "port": 80}])],
            [
                slice_(
                    "web",
                    ports=[{"name": "http", "port": 8080}],
                    endpoints=[{"addresses": [], "conditions": {}}],
                )
            ],
            {("ns1/web:http", 80): []},
            id="no-addresses-dropped",
        ),
        pytest.param(
            [service("web", ports=[{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}])],
            [
                slice_(
                    "web",
                    ports=[{"name": "metrics", "port": 19090}, {"name": "http", "port": 8080}],
                    endpoints=[ep("10.244.1.5")],
                )
            ],
            {("ns1/web:http", 80): ["10.244.1.5:8080"], ("ns1/web:metrics", 9090): ["10.244.1.5:19090"]},
            id="named-ports-matched-target-port-from-slice",
        ),
        pytest.param(
            [service("web", ports=[{"port": 80}])],
            [slice_("web", ports=[{"name": "", "port": 8080}], endpoints=[ep("10.244.1.5")])],
            {("ns1/web", 80): ["10.244.1.5:8080"]},
            id="unnamed-port",
        ),
        pytest.param(
            [service("web", ports=[{"name": "http", "port": 80}])],
            [
                slice_("web", ports=[{"name": "http", "port": 8080}], endpoints=[ep("10.244.1.9")], name="a"),
                slice_(
                    "web", ports=[{"name": "http", "port": 8080}], endpoints=[ep("10.244.1.10")], name="b"
                ),
                slice_("web", ports=[{"name": "http", "port": 8080}], endpoints=[ep("10.244.1.9")], name="c"),
                slice_("other", ports=[{"name": "http", "port": 8080}], endpoints=[ep("10.244.9.9")]),
            ],
            # Upstream sorts by the ip:port string, so .10 comes before .9.
            {("ns1/web:http", 80): ["10.244.1.10:8080", "10.244.1.9:8080"]},
            id="merged-across-slices-deduplicated-sorted",
        ),
        pytest.param(
            [
                service("headless", ports=[{"name": "http", "port": 80}], cluster_ip="None"),
                service("ext", ports=[{"port": 80}], type="ExternalName", externalName="example.com"),
                service("pending", ports=[{"port": 80}], cluster_ip=""),
            ],
            [slice_("headless", ports=[{"name": "http", "port": 80}], endpoints=[ep("10.244.1.5")])],
            {},
            id="headless-externalname-and-no-clusterip-skipped",
        ),
        pytest.param(
            [service("dns", ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])],
            [
                slice_(
                    "dns",
                    ports=[{"name": "dns", "port": 53, "protocol": "TCP"}],
                    endpoints=[ep("10.244.1.3")],
                )
            ],
            {("ns1/dns:dns", 53): []},
            id="protocol-must-match",
        ),
    ],
)
def test_build_service_ports(services: list[dict], slices: list[dict], expected: dict) -> None:
    ports = build_service_ports(services, slices, node_name=NODE)
    assert {(p.service_port_name, p.port): [str(e) for e in p.endpoints] for p in ports} == expected


def test_build_service_ports_marks_local_endpoints_and_node_port() -> None:
    (port,) = build_service_ports(
        [service("web", ports=[{"name": "http", "port": 80, "nodePort": 30080}], type="NodePort")],
        [slice_("web", ports=[{"name": "http", "port": 8080}], endpoints=[ep("10.244.1.5", node=NODE)])],
        node_name=NODE,
    )
    assert port.node_port == 30080
    assert port.endpoints == (Endpoint(ip="10.244.1.5", port=8080, node_name=NODE, is_local=True),)


# --- iptables: names and probabilities ---------------------------------------------------------


@pytest.mark.parametrize(
    ("service_port_name", "expected"),
    [
        ("ns1/svc1:p80", "KUBE-SVC-XPGD46QRK7WJZT7O"),
        ("ns2/svc2:p80", "KUBE-SVC-GNZBNJ2PO5MGZ6GT"),
        ("ns3/svc3:p80", "KUBE-SVC-X27LE4BHSL4DOUIK"),
        ("ns4/svc4:p80", "KUBE-SVC-4SW47YFZTEDKD3PK"),
        ("ns5/svc5:p80", "KUBE-SVC-NUKIZ6OKUXPJNT4C"),
        ("ns2/svc2:p8080", "KUBE-SVC-2VJB64SDSIJUP5T6"),
    ],
)
def test_service_chain_names_match_upstream_fixtures(service_port_name: str, expected: str) -> None:
    assert iptables.service_port_chain_name(service_port_name, "tcp") == expected
    assert iptables.service_external_chain_name(service_port_name, "tcp") == "KUBE-EXT-" + expected[9:]


@pytest.mark.parametrize(
    ("service_port_name", "endpoint", "expected"),
    [
        ("ns1/svc1:p80", "10.180.0.1:80", "KUBE-SEP-SXIVWICOYRO3J4NJ"),
        ("ns1/svc1:p80", "10.0.1.1:80", "KUBE-SEP-SNQ3ZNILQDEJNDQO"),
        ("ns2/svc2:p8080", "10.0.2.1:8080", "KUBE-SEP-UHEGFW77JX3KXTOV"),
    ],
)
def test_endpoint_chain_names_match_upstream_fixtures(
    service_port_name: str, endpoint: str, expected: str
) -> None:
    assert iptables.service_port_endpoint_chain_name(service_port_name, "tcp", endpoint) == expected


def test_chain_names_depend_on_protocol_and_fit_iptables() -> None:
    tcp = iptables.service_port_chain_name("ns1/svc1:p80", "tcp")
    udp = iptables.service_port_chain_name("ns1/svc1:p80", "udp")
    assert tcp != udp
    assert max(len(tcp), len(udp)) <= 28


SVC = "KUBE-SVC-XPGD46QRK7WJZT7O"
SEP1 = "KUBE-SEP-SXIVWICOYRO3J4NJ"  # ns1/svc1:p80 -> 10.180.0.1:80
SEP2 = iptables.service_port_endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.2:80")
SEP3 = iptables.service_port_endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.3:80")


@pytest.mark.parametrize(
    ("ips", "restore_lines", "save_lines"),
    [
        pytest.param(
            ["10.180.0.1"],
            [f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j {SEP1}'],
            [f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j {SEP1}'],
            id="one",
        ),
        pytest.param(
            ["10.180.0.1", "10.180.0.2"],
            [
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" '
                f"-m statistic --mode random --probability 0.5000000000 -j {SEP1}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j {SEP2}',
            ],
            [
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" '
                f"-m statistic --mode random --probability 0.50000000000 -j {SEP1}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j {SEP2}',
            ],
            id="two",
        ),
        pytest.param(
            ["10.180.0.1", "10.180.0.2", "10.180.0.3"],
            [
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" '
                f"-m statistic --mode random --probability 0.3333333333 -j {SEP1}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" '
                f"-m statistic --mode random --probability 0.5000000000 -j {SEP2}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j {SEP3}',
            ],
            [
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" '
                f"-m statistic --mode random --probability 0.33333333349 -j {SEP1}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" '
                f"-m statistic --mode random --probability 0.50000000000 -j {SEP2}",
                f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j {SEP3}',
            ],
            id="three",
        ),
    ],
)
def test_probabilities(ips: list[str], restore_lines: list[str], save_lines: list[str]) -> None:
    jumps = f'-A {SVC} -m comment --comment "ns1/svc1:p80 ->'
    restore = iptables.render_restore([sp(*ips)]).splitlines()
    save = iptables.render_save([sp(*ips)]).splitlines()
    assert [line for line in restore if line.startswith(jumps)] == restore_lines
    assert [line for line in save if line.startswith(jumps)] == save_lines


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1.0000000000"), (2, "0.5000000000"), (3, "0.3333333333"), (4, "0.2500000000"), (7, "0.1428571429")],
)
def test_probability_format(n: int, expected: str) -> None:
    assert iptables.probability(n) == expected


# --- iptables: whole tables ---------------------------------------------------------------------

UPSTREAM_OPTIONS = iptables.ProxierOptions(
    masquerade_mark="0x4000", cluster_cidr="10.0.0.0/8", random_fully=False, localhost_node_ports=True
)


def test_restore_text_for_one_endpoint_matches_upstream_shape() -> None:
    # Every rule line below appears verbatim in upstream's proxier_test.go fixtures.
    expected = "\n".join(
        [
            "*filter",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-EXTERNAL-SERVICES - [0:0]",
            ":KUBE-FORWARD - [0:0]",
            ":KUBE-NODEPORTS - [0:0]",
            ":KUBE-PROXY-FIREWALL - [0:0]",
            ":KUBE-FIREWALL - [0:0]",
            '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 '
            "! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
            "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
            '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 '
            "-j ACCEPT",
            '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack '
            "--ctstate RELATED,ESTABLISHED -j ACCEPT",
            "COMMIT",
            "*nat",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-NODEPORTS - [0:0]",
            ":KUBE-POSTROUTING - [0:0]",
            ":KUBE-MARK-MASQ - [0:0]",
            f":{SVC} - [0:0]",
            f":{SEP1} - [0:0]",
            "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
            "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
            '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
            "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
            '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 '
            f"--dport 80 -j {SVC}",
            f'-A {SVC} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 '
            "! -s 10.0.0.0/8 -j KUBE-MARK-MASQ",
            f'-A {SVC} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j {SEP1}',
            f"-A {SEP1} -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
            f"-A {SEP1} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
            '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
            'rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
            "COMMIT",
            "",
        ]
    )
    assert iptables.render_restore([sp("10.180.0.1")], options=UPSTREAM_OPTIONS) == expected


@pytest.mark.parametrize(
    ("service_port", "render", "table", "present", "absent"),
    [
        pytest.param(
            sp(),
            iptables.render_restore,
            "filter",
            [
                '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp '
                "-d 172.30.0.41 --dport 80 -j REJECT"
            ],
            [SVC, "cluster IP"],
            id="no-endpoints-restore",
        ),
        pytest.param(
            sp(),
            iptables.render_save,
            "filter",
            [
                '-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 has no endpoints" '
                "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable"
            ],
            [SVC, "cluster IP"],
            id="no-endpoints-save",
        ),
        pytest.param(
            sp(node_port=30080),
            iptables.render_restore,
            "filter",
            [
                '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" '
                "-m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT"
            ],
            ["KUBE-EXT-"],
            id="nodeport-no-endpoints-restore",
        ),
        pytest.param(
            sp("10.180.0.1", node_port=30080),
            iptables.render_restore,
            "nat",
            [
                "-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 30080 "
                "-j KUBE-EXT-XPGD46QRK7WJZT7O",
                '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external '
                'destinations" -j KUBE-MARK-MASQ',
                f"-A KUBE-EXT-XPGD46QRK7WJZT7O -j {SVC}",
                ":KUBE-EXT-XPGD46QRK7WJZT7O - [0:0]",
            ],
            ["REJECT"],
            id="nodeport-restore",
        ),
        pytest.param(
            sp("10.180.0.1", node_port=30080),
            iptables.render_save,
            "nat",
            [
                "-A KUBE-NODEPORTS -p tcp -m comment --comment ns1/svc1:p80 -m tcp --dport 30080 "
                "-j KUBE-EXT-XPGD46QRK7WJZT7O",
                f"-A {SEP1} -s 10.180.0.1/32 -m comment --comment ns1/svc1:p80 -j KUBE-MARK-MASQ",
                f"-A {SEP1} -p tcp -m comment --comment ns1/svc1:p80 -m tcp -j DNAT --to-destination 10.180.0.1:80",
                f"-A {SVC} ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment "
                '--comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
                "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
                "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
                '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            ],
            ["REJECT"],
            id="nodeport-save",
        ),
    ],
)
def test_table_contents(
    service_port: ServicePort, render: Any, table: str, present: list[str], absent: list[str]
) -> None:
    text = render([service_port], options=UPSTREAM_OPTIONS)
    section = _table(text, table)
    for line in present:
        assert line in section
    for fragment in absent:
        assert not any(fragment in line for line in section)


def test_save_orders_chains_like_iptables_save() -> None:
    text = iptables.render_save([sp("10.180.0.1", node_port=30080)], options=UPSTREAM_OPTIONS)
    nat_chains = [line.split()[0][1:] for line in _table(text, "nat") if line.startswith(":")]
    assert nat_chains[:4] == ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
    assert nat_chains[4:] == sorted(nat_chains[4:])
    assert text.startswith("*filter\n") and text.endswith("COMMIT\n")


def test_default_mark_is_gos_zero_padded_form() -> None:
    text = iptables.render_restore([sp("10.180.0.1")])
    assert "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000" in text.splitlines()
    assert "-j MASQUERADE --random-fully" in text


def test_large_cluster_drops_endpoint_comments() -> None:
    ips = [f"10.{i // 250}.{i % 250}.1" for i in range(1001)]
    lines = iptables.render_restore([sp(*ips)]).splitlines()
    sep_rules = [line for line in lines if line.startswith("-A KUBE-SEP-")]
    assert sep_rules and not any("--comment" in line for line in sep_rules)


def _table(text: str, table: str) -> list[str]:
    """Return the lines of one ``*table`` ... ``COMMIT`` section."""
    lines = text.splitlines()
    start = lines.index(f"*{table}")
    return lines[start : lines.index("COMMIT", start) + 1]


# --- ipvs --------------------------------------------------------------------------------------


def test_ipvsadm_text() -> None:
    dns = ServicePort(
        namespace="kube-system",
        name="kube-dns",
        port_name="dns",
        protocol="UDP",
        cluster_ip="10.96.0.10",
        port=53,
        endpoints=(Endpoint(ip="10.244.1.3", port=53), Endpoint(ip="10.244.0.2", port=53)),
    )
    web = sp("10.244.1.10", "10.244.1.9", node_port=30080)
    empty = ServicePort(
        namespace="ns1", name="idle", port_name="", protocol="TCP", cluster_ip="10.96.0.2", port=443
    )
    text = ipvs.render_ipvsadm(ipvs.build_virtual_servers([dns, web, empty], node_ips=["192.168.1.10"]))
    real = "  -> {:<28} Masq    1      0          0         "
    assert text.splitlines() == [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        "TCP  10.96.0.2:443 rr",
        "TCP  172.30.0.41:80 rr",
        real.format("10.244.1.9:80"),
        real.format("10.244.1.10:80"),
        "TCP  192.168.1.10:30080 rr",
        real.format("10.244.1.9:80"),
        real.format("10.244.1.10:80"),
        "UDP  10.96.0.10:53 rr",
        real.format("10.244.0.2:53"),
        real.format("10.244.1.3:53"),
    ]
    assert text.splitlines()[5] == "  -> 10.244.1.9:80                Masq    1      0          0         "


@pytest.mark.parametrize(
    ("scheduler", "line"), [("rr", "TCP  172.30.0.41:80 rr"), ("lc", "TCP  172.30.0.41:80 lc")]
)
def test_ipvs_scheduler(scheduler: str, line: str) -> None:
    text = ipvs.render_ipvsadm(ipvs.build_virtual_servers([sp("10.244.1.5")], scheduler=scheduler))
    assert line in text.splitlines()
