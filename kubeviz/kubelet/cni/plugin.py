"""The CNI plugin the kubelet's runtime calls at sandbox creation (ADD) and deletion (DEL).

Mirrors what a CNI ``ADD`` does on a real node for flannel, calico and cilium: host-local IPAM
hands out the next address of the node's podCIDR, and the flavour names the host side of the
pod's veth (``veth…`` on ``cni0``, ``cali…``, ``lxc…``).  ``DEL`` releases the address and is
idempotent, as the CNI spec requires.  The allocations are node state
(``kubelet.models.IPAllocation``), written only here.

Simplified: no network namespace, no bridge or eBPF programming: the address, the interface
name and the routes the Network Daemon writes are what the cluster can observe.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from kubeviz.client import nodeactions
from kubeviz.kubelet.cni import flavours, ipam
from kubeviz.kubelet.models import IPAllocation

#: The plugin ``type`` in each flavour's conflist, as the runtime's errors quote it.
PLUGIN_TYPES = {"flannel": "flannel", "calico": "calico", "cilium": "cilium-cni"}


class CNIError(Exception):
    """The plugin failed; the message is what the runtime reports in FailedCreatePodSandBox."""


@dataclass(frozen=True)
class Attachment:
    ip: str
    interface: str
    gateway: str


@dataclass(frozen=True)
class CNI:
    """One node's CNI plugin: its flavour and the podCIDR its IPAM allocates from."""

    cluster: str
    node: str
    flavour: str
    pod_cidr: str

    def add(self, *, sandbox_id: str, namespace: str, pod: str, now: float) -> Attachment:
        """Attach a sandbox: allocate its IP (round-robin host-local) and name its veth."""
        kind = PLUGIN_TYPES.get(self.flavour, self.flavour)
        if not self.pod_cidr:
            raise CNIError(
                f'plugin type="{kind}" failed (add): node "{self.node}" has no podCIDR yet; '
                "kube-controller-manager's node IPAM assigns one shortly after the Node registers"
            )
        existing = IPAllocation.objects.filter(
            cluster=self.cluster, node=self.node, sandbox_id=sandbox_id
        ).first()
        interface = flavours.pod_interface(
            self.flavour, namespace=namespace, pod=pod, container_id=sandbox_id
        )
        gateway = flavours.router_ip(self.pod_cidr)
        if existing is not None:  # ADD again for the same sandbox: answer what it already has
            return Attachment(existing.ip, existing.interface, gateway)
        for _ in range(20):
            mine = IPAllocation.objects.filter(cluster=self.cluster, node=self.node)
            taken = [ip for ip in mine.values_list("ip", flat=True) if _inside(ip, self.pod_cidr)]
            last = mine.order_by("-allocated_at", "-id").values_list("ip", flat=True).first()
            try:
                ip = ipam.next_free_ip(self.pod_cidr, taken, last_reserved=last)
            except ipam.RangeFullError as exc:
                raise CNIError(f'plugin type="{kind}" failed (add): {exc}') from exc
            try:
                with transaction.atomic():
                    IPAllocation.objects.create(
                        cluster=self.cluster,
                        node=self.node,
                        ip=ip,
                        sandbox_id=sandbox_id,
                        interface=interface,
                        allocated_at=now,
                    )
            except IntegrityError:
                continue  # another sandbox took it meanwhile: take the next one
            nodeactions.record(
                cluster=self.cluster,
                node=self.node,
                component="cni",
                action="ADD",
                detail={"plugin": kind, "ip": ip, "interface": interface, "pod": f"{namespace}/{pod}"},
            )
            return Attachment(ip, interface, gateway)
        raise CNIError(f'plugin type="{kind}" failed (add): could not reserve an address; try again')

    def delete(self, *, sandbox_id: str, namespace: str, pod: str) -> None:
        """Detach a sandbox and release its address (a DEL of an unknown sandbox does nothing)."""
        found = list(IPAllocation.objects.filter(cluster=self.cluster, node=self.node, sandbox_id=sandbox_id))
        if not found:
            return
        IPAllocation.objects.filter(pk__in=[a.pk for a in found]).delete()
        for alloc in found:
            nodeactions.record(
                cluster=self.cluster,
                node=self.node,
                component="cni",
                action="DEL",
                detail={
                    "plugin": PLUGIN_TYPES.get(self.flavour, self.flavour),
                    "ip": alloc.ip,
                    "interface": alloc.interface,
                    "pod": f"{namespace}/{pod}",
                },
            )


def _inside(ip: str, cidr: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
