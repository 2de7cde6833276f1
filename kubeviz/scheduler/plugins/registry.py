"""The one explicit map of scheduling plugins, and the default profile.

Mirrors ``pkg/scheduler/framework/plugins/registry.go`` and the default plugin set of
``pkg/scheduler/apis/config/v1/default_plugins.go``: filters in upstream's order, score plugins
with upstream's default weights.  Adding a plugin means adding a line here, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeviz.scheduler.framework.interface import Plugin, Registry
from kubeviz.scheduler.plugins import (
    image_locality,
    inter_pod_affinity,
    node_affinity,
    node_name,
    node_ports,
    node_resources_balanced_allocation,
    node_resources_fit,
    node_unschedulable,
    pod_topology_spread,
    taint_toleration,
)

PLUGINS: Mapping[str, type[Plugin]] = {
    node_unschedulable.NAME: node_unschedulable.NodeUnschedulable,
    node_name.NAME: node_name.NodeName,
    taint_toleration.NAME: taint_toleration.TaintToleration,
    node_affinity.NAME: node_affinity.NodeAffinity,
    node_ports.NAME: node_ports.NodePorts,
    node_resources_fit.NAME: node_resources_fit.NodeResourcesFit,
    pod_topology_spread.NAME: pod_topology_spread.PodTopologySpread,
    inter_pod_affinity.NAME: inter_pod_affinity.InterPodAffinity,
    node_resources_balanced_allocation.NAME: node_resources_balanced_allocation.NodeResourcesBalancedAllocation,
    image_locality.NAME: image_locality.ImageLocality,
}

DEFAULT_FILTERS: tuple[str, ...] = (
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
)

DEFAULT_SCORES: Mapping[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "NodeResourcesBalancedAllocation": 1,
    "ImageLocality": 1,
}

DEFAULT_REGISTRY = Registry(plugins=PLUGINS, filters=DEFAULT_FILTERS, scores=DEFAULT_SCORES)
