"""InterPodAffinity: required pod affinity and anti-affinity, both ways.

Mirrors the Filter half of ``pkg/scheduler/framework/plugins/interpodaffinity``.

* Existing pods' required anti-affinity: if a pod already running in topology domain D has a
  term matching the incoming pod, no node in D may take it.
* The incoming pod's required affinity: the node must carry every term's topology key, and each
  key's domain must hold a pod matching all the terms -- unless no pod anywhere matches and the
  pod matches its own terms (the first pod of a self-affine group must land somewhere).
* The incoming pod's required anti-affinity: no domain of the node may hold a matching pod.

A term selects pods by ``labelSelector`` in ``namespaces`` (the pod's own namespace when empty);
an empty ``namespaceSelector`` means every namespace.  A non-empty ``namespaceSelector`` needs
namespace labels the snapshot does not carry, so it adds no namespaces here.  The preferred
terms (InterPodAffinity's Score) are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeviz.client import labels as labelsel
from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status, namespace_of

NAME = "InterPodAffinity"
REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"

Pair = tuple[str, str]


@dataclass(frozen=True)
class Term:
    """Hold one required pod (anti-)affinity term, namespaces resolved."""

    topology_key: str
    selector: labelsel.Selector
    namespaces: frozenset[str] | None  # None: every namespace

    def matches(self, pod: Obj) -> bool:
        """Tell whether ``pod`` is selected by this term."""
        if self.namespaces is not None and namespace_of(pod) not in self.namespaces:
            return False
        return self.selector.matches_object(pod)


def terms(pod: Obj, kind: str) -> list[Term]:
    """Return the pod's required terms of ``kind`` ("podAffinity" or "podAntiAffinity")."""
    section: Mapping[str, Any] = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    out = []
    for t in section.get("requiredDuringSchedulingIgnoredDuringExecution") or []:
        names = frozenset(t.get("namespaces") or [])
        ns_selector = t.get("namespaceSelector")
        if (
            ns_selector is not None
            and not ns_selector.get("matchLabels")
            and not ns_selector.get("matchExpressions")
        ):
            namespaces = None
        else:
            namespaces = names or (frozenset() if ns_selector is not None else frozenset({namespace_of(pod)}))
        out.append(
            Term(
                topology_key=t.get("topologyKey") or "",
                selector=labelsel.from_label_selector(t.get("labelSelector")),
                namespaces=namespaces,
            )
        )
    return out


@dataclass
class _Counts:
    affinity: dict[Pair, int]
    anti_affinity: dict[Pair, int]
    existing_anti_affinity: dict[Pair, int]


def _bump(counts: dict[Pair, int], node: NodeInfo, key: str) -> None:
    if key in node.labels:
        pair = (key, node.labels[key])
        counts[pair] = counts.get(pair, 0) + 1


def count_pairs(pod: Obj, nodes: Sequence[NodeInfo]) -> _Counts:
    """Count, per topology pair, the pods the incoming pod's terms (and theirs) select."""
    affinity, anti = terms(pod, "podAffinity"), terms(pod, "podAntiAffinity")
    out = _Counts({}, {}, {})
    for node in nodes:
        if affinity or anti:
            for existing in node.pods:
                if affinity and all(t.matches(existing) for t in affinity):
                    for t in affinity:
                        _bump(out.affinity, node, t.topology_key)
                for t in anti:
                    if t.matches(existing):
                        _bump(out.anti_affinity, node, t.topology_key)
        for existing in node.anti_affinity_pods:
            for t in terms(existing, "podAntiAffinity"):
                if t.matches(pod):
                    _bump(out.existing_anti_affinity, node, t.topology_key)
    return out


class InterPodAffinity(FilterPlugin):
    """Filter on required inter-pod affinity and anti-affinity."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node that breaks the pod's affinity, its anti-affinity, or another pod's."""
        counts = state.memo(f"{NAME}/counts", lambda: count_pairs(pod, state.all_nodes))
        labels = node.labels
        affinity = state.memo(f"{NAME}/affinity", lambda: terms(pod, "podAffinity"))
        if affinity:
            if not all(t.topology_key in labels for t in affinity):
                return Status.unschedulable(REASON_AFFINITY, resolvable=False)
            found = all(
                counts.affinity.get((t.topology_key, labels[t.topology_key]), 0) > 0 for t in affinity
            )
            first_of_group = not counts.affinity and all(t.matches(pod) for t in affinity)
            if not found and not first_of_group:
                return Status.unschedulable(REASON_AFFINITY, resolvable=False)
        for t in state.memo(f"{NAME}/anti-affinity", lambda: terms(pod, "podAntiAffinity")):
            if t.topology_key in labels and counts.anti_affinity.get(
                (t.topology_key, labels[t.topology_key]), 0
            ):
                return Status.unschedulable(REASON_ANTI_AFFINITY)
        if any(counts.existing_anti_affinity.get(pair, 0) for pair in labels.items()):
            return Status.unschedulable(REASON_EXISTING_ANTI_AFFINITY)
        return Status.success()
