"""What a cluster is made of: masters, workers, the CNI and kube-proxy's mode.

Validated with a DRF serializer so every problem names its field; the explorer API turns
those into a 422 Status with ``details.causes``.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

CNIS = ("flannel", "calico", "cilium")
PROXY_MODES = ("iptables", "ipvs")
# The Network Daemon each CNI runs on every node.
NETWORK_DAEMONS = {"flannel": "flanneld", "calico": "calico-felix", "cilium": "cilium-agent"}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class TopologySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    masters = serializers.IntegerField(default=1, min_value=1, max_value=5)
    workers = serializers.IntegerField(default=2, min_value=0, max_value=1000)
    cni = serializers.ChoiceField(choices=CNIS, default="flannel")
    proxyMode = serializers.ChoiceField(choices=PROXY_MODES, default="iptables")
    mastersSchedulable = serializers.BooleanField(default=False)
    speed = serializers.FloatField(default=1.0, min_value=0.1, max_value=100.0)

    def validate_name(self, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise serializers.ValidationError(
                "must be a lowercase RFC 1123 label: lower case alphanumeric characters or '-', "
                "starting and ending with an alphanumeric character (e.g. 'demo')"
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
