"""What a cluster is made of: masters, workers, the CNI and kube-proxy's mode.

Validated with a DRF serializer so every problem names its field; the explorer API turns
those into a 422 Status with ``details.causes``.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from kubeviz.cluster.models import Machine

CNIS = ("flannel", "calico", "cilium")
PROXY_MODES = ("iptables", "ipvs")
# The Network Daemon each CNI runs on every node.
NETWORK_DAEMONS = {"flannel": "flanneld", "calico": "calico-felix", "cilium": "cilium-agent"}

#: Kubernetes' timings divided by this: a stopped worker's pods run elsewhere within a minute
#: (node monitor grace 50 s and the 300 s not-ready toleration become 5 s and 30 s).
DEFAULT_SPEED = 10.0

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class TopologySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    masters = serializers.IntegerField(default=1, min_value=1, max_value=5)
    workers = serializers.IntegerField(default=2, min_value=0, max_value=1000)
    cni = serializers.ChoiceField(choices=CNIS, default="flannel")
    proxyMode = serializers.ChoiceField(choices=PROXY_MODES, default="iptables")
    mastersSchedulable = serializers.BooleanField(default=False)
    speed = serializers.FloatField(default=DEFAULT_SPEED, min_value=0.1, max_value=100.0)
    #: Apply kubeadm's add-ons (kube-proxy, the CNI's daemon, coredns).  Off gives a bare
    #: control plane, as ``kubeadm init --skip-phases=addon/all`` without a CNI would.
    addons = serializers.BooleanField(default=True)
    #: Shown in ``GET /api/clusters`` (the front page).  Clusters launched from scenario links
    #: are not: their unguessable names stay with whoever launched them.
    listed = serializers.BooleanField(default=True)

    def validate_name(self, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise serializers.ValidationError(
                "must be a lowercase RFC 1123 label: lower case alphanumeric characters or '-', "
                "starting and ending with an alphanumeric character (e.g. 'demo')"
            )
        if value.startswith("live-"):
            raise serializers.ValidationError(
                'names starting with "live-" are kept for live links; choose another'
            )
        return value

    def validate_masters(self, value: int) -> int:
        if value % 2 == 0:
            raise serializers.ValidationError(
                "must be odd (1, 3 or 5): etcd needs a majority of members to agree, and an even count adds no fault tolerance"
            )
        return value


def topology_of(data: dict[str, Any]) -> dict[str, Any]:
    """Return the stored topology (everything but the name) from validated data."""
    return {k: v for k, v in data.items() if k != "name"}


MAX_WORKERS = 1000
_MEMORY = re.compile(r"^[1-9][0-9]*(Mi|Gi|Ti)$")


class MachineSerializer(serializers.Serializer):
    """A machine added to a running cluster: ``{"role": "worker"}`` and optional resources."""

    role = serializers.ChoiceField(choices=["worker"])
    cpu = serializers.IntegerField(default=4, min_value=1, max_value=256)
    memory = serializers.CharField(default="16Gi", max_length=16)
    pods = serializers.IntegerField(default=110, min_value=1, max_value=250)

    def validate_memory(self, value: str) -> str:
        if not _MEMORY.match(value):
            raise serializers.ValidationError("must be a whole number of Mi, Gi or Ti, such as 16Gi")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        count = Machine.objects.filter(cluster=self.context["cluster"], role=attrs["role"]).count()
        if count >= MAX_WORKERS:
            raise serializers.ValidationError(
                {"role": f"the cluster already has {count} workers, the most it may have ({MAX_WORKERS})"}
            )
        return {**attrs, "cpu": str(attrs["cpu"]), "pods": str(attrs["pods"])}
