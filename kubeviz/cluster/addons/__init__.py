"""The objects ``kubeadm init`` and a CNI manifest leave in a new cluster, and the static pods.

Mirrors kubeadm's ``addon/kube-proxy`` and ``addon/coredns`` phases, the CNI projects' own
install manifests (flannel's ``kube-flannel.yml``, calico's ``calico.yaml``, cilium's chart)
and the control-plane manifests kubeadm writes to ``/etc/kubernetes/manifests``.  They are
data: one YAML file each, with ``${...}`` placeholders filled by ``string.Template``.

Simplified: kubeviz has no volumes, so host paths, mounts and the CNI install init containers
are left out; everything a person reads in ``kubectl get -o yaml`` that shapes behaviour
(labels, selectors, tolerations, priority, probes, commands) is kept.  coredns does not
tolerate the control-plane taint, so it runs on workers unless masters are schedulable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

import yaml

HERE = Path(__file__).parent
STATIC_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
#: The Network Daemon each CNI runs on every node.
NETWORK_DAEMONS = {"flannel": "flanneld", "calico": "calico-felix", "cilium": "cilium-agent"}
KUBE_PROXY_LABELS = {"k8s-app": "kube-proxy"}
COREDNS_LABELS = {"k8s-app": "kube-dns"}
_DAEMON_LABELS = {
    "flannel": {"app": "flannel"},
    "calico": {"k8s-app": "calico-node"},
    "cilium": {"k8s-app": "cilium"},
}

_GROUP_VERSION = {"v1": ("", "v1"), "apps/v1": ("apps", "v1")}
_RESOURCE = {
    "Namespace": "namespaces",
    "ServiceAccount": "serviceaccounts",
    "ConfigMap": "configmaps",
    "DaemonSet": "daemonsets",
    "Deployment": "deployments",
    "Service": "services",
    "Pod": "pods",
}


@dataclass(frozen=True)
class Manifest:
    """One object to create: where it goes (group, version, resource, namespace) and its body."""

    resource: str
    group: str
    version: str
    namespace: str
    body: dict[str, Any]


@cache
def _template(name: str) -> Template:
    return Template((HERE / name).read_text())


def _load(name: str, **values: str) -> list[dict[str, Any]]:
    return yaml.safe_load(_template(name).substitute(values))


def _manifest(body: dict[str, Any]) -> Manifest:
    group, version = _GROUP_VERSION[body["apiVersion"]]
    return Manifest(
        resource=_RESOURCE[body["kind"]],
        group=group,
        version=version,
        namespace=(body.get("metadata") or {}).get("namespace", ""),
        body=body,
    )


def addon_manifests(
    *,
    cni: str,
    proxy_mode: str,
    cluster_cidr: str = "10.244.0.0/16",
    service_cidr: str = "10.96.0.0/12",
    dns_ip: str = "10.96.0.10",
) -> list[Manifest]:
    """Return the add-on objects in creation order: kube-proxy, the CNI, then coredns."""
    if cni not in NETWORK_DAEMONS:
        raise ValueError(f"unknown CNI {cni!r}: choose one of {', '.join(NETWORK_DAEMONS)}")
    values = {"cni": cni, "proxy_mode": proxy_mode, "cluster_cidr": cluster_cidr, "dns_ip": dns_ip}
    docs = [
        *_load("kube-proxy.yaml", **values),
        *_load(f"{cni}.yaml", **values),
        *_load("coredns.yaml", **values),
    ]
    return [_manifest(d) for d in docs]


def static_pods(
    *,
    node: str,
    node_ip: str,
    masters: list[tuple[str, str]],
    cluster_cidr: str = "10.244.0.0/16",
    service_cidr: str = "10.96.0.0/12",
) -> list[dict[str, Any]]:
    """Return one master's static pod manifests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler."""
    initial = ",".join(f"{name}=https://{ip}:2380" for name, ip in (masters or [(node, node_ip)]))
    return _load(
        "static-pods.yaml",
        node=node,
        node_ip=node_ip,
        initial_cluster=initial,
        cluster_cidr=cluster_cidr,
        service_cidr=service_cidr,
    )


def daemon_pod_labels(cni: str) -> dict[str, str]:
    """Return the labels that select the CNI daemon's pods (``{"app": "flannel"}`` …)."""
    return dict(_DAEMON_LABELS[cni])


def daemon_namespace(cni: str) -> str:
    return "kube-flannel" if cni == "flannel" else "kube-system"
