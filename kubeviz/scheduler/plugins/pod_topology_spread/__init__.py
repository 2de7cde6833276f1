"""PodTopologySpread: spread matching pods evenly over topology domains.

Mirrors ``pkg/scheduler/framework/plugins/podtopologyspread``.

Filter (``whenUnsatisfiable: DoNotSchedule``): a node missing a constraint's topology key is
unresolvable.  Otherwise, per constraint, count the matching pods (same namespace, selector plus
``matchLabelKeys``, not terminating) in every domain of eligible nodes (nodes that carry every
key and, by the default inclusion policies, match the pod's required node affinity; taints are
ignored).  Placing the pod must keep ``count + self - global minimum <= maxSkew``; the minimum is
0 while fewer domains exist than ``minDomains``.

Score (``ScheduleAnyway``): per constraint ``count * log(domains + 2) + (maxSkew - 1)``, summed
and rounded; feasible nodes missing a key are ignored and score 0.  Normalisation reverses it so
the emptiest domain scores 100.  Cluster-level default constraints are not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubeviz.client import labels as labelsel
from kubeviz.scheduler.framework.interface import MAX_NODE_SCORE, CycleState, FilterPlugin, ScorePlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status, labels_of, namespace_of
from kubeviz.scheduler.plugins.helper import (
    NO_EXECUTE,
    NO_SCHEDULE,
    required_node_affinity_matches,
    taints_of,
    tolerations_of,
    untolerated_taint,
)

NAME = "PodTopologySpread"
REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
REASON_NODE_LABEL_NOT_MATCH = REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"


@dataclass(frozen=True)
class Constraint:
    """Hold one topology spread constraint, its selector already resolved."""

    max_skew: int
    topology_key: str
    selector: labelsel.Selector
    min_domains: int = 1
    honor_affinity: bool = True
    honor_taints: bool = False


def constraints(pod: Obj, *, when: str) -> list[Constraint]:
    """Return the pod's constraints with this ``whenUnsatisfiable``."""
    own = labels_of(pod)
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        if c.get("whenUnsatisfiable", DO_NOT_SCHEDULE) != when:
            continue
        selector = labelsel.from_label_selector(c.get("labelSelector"))
        extra = [
            labelsel.Requirement(k, labelsel.Operator.IN, (own[k],))
            for k in c.get("matchLabelKeys") or []
            if k in own
        ]
        if extra and not selector.nothing:
            selector = labelsel.Selector(requirements=selector.requirements + tuple(extra))
        out.append(
            Constraint(
                max_skew=int(c.get("maxSkew") or 1),
                topology_key=c.get("topologyKey") or "",
                selector=selector,
                min_domains=int(c.get("minDomains") or 1),
                honor_affinity=(c.get("nodeAffinityPolicy") or "Honor") == "Honor",
                honor_taints=(c.get("nodeTaintsPolicy") or "Ignore") == "Honor",
            )
        )
    return out


def count_matching(pods: Sequence[Obj], selector: labelsel.Selector, namespace: str) -> int:
    """Count pods in ``namespace`` matching ``selector``, leaving out terminating ones."""
    return sum(
        1
        for p in pods
        if not (p.get("metadata") or {}).get("deletionTimestamp")
        and namespace_of(p) == namespace
        and selector.matches_object(p)
    )


def _has_keys(node: NodeInfo, cs: Sequence[Constraint]) -> bool:
    return all(c.topology_key in node.labels for c in cs)


def _included(pod: Obj, node: NodeInfo, c: Constraint) -> bool:
    if c.honor_affinity and not required_node_affinity_matches(pod, node.node):
        return False
    return not (
        c.honor_taints
        and untolerated_taint(taints_of(node.node), tolerations_of(pod), effects=(NO_SCHEDULE, NO_EXECUTE))
    )


def domain_counts(
    pod: Obj, c: Constraint, *, nodes: Sequence[NodeInfo], keys: Sequence[Constraint]
) -> dict[str, int]:
    """Return matching-pod counts per domain of ``c`` over the eligible ``nodes``."""
    counts: dict[str, int] = {}
    for node in nodes:
        if not _has_keys(node, keys) or not _included(pod, node, c):
            continue
        value = node.labels[c.topology_key]
        counts[value] = counts.get(value, 0) + count_matching(node.pods, c.selector, namespace_of(pod))
    return counts


class PodTopologySpread(FilterPlugin, ScorePlugin):
    """Filter on hard spread constraints; score on soft ones."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node where placing the pod would exceed a DoNotSchedule constraint's maxSkew."""
        hard = constraints(pod, when=DO_NOT_SCHEDULE)
        if not hard:
            return Status.success()
        if not _has_keys(node, hard):
            return Status.unschedulable(REASON_NODE_LABEL_NOT_MATCH, resolvable=False)
        counts = state.memo(
            f"{NAME}/filter",
            lambda: [domain_counts(pod, c, nodes=state.all_nodes, keys=hard) for c in hard],
        )
        for c, per_domain in zip(hard, counts, strict=True):
            own = 1 if c.selector.matches(labels_of(pod)) else 0
            here = per_domain.get(node.labels[c.topology_key], 0)
            lowest = min(per_domain.values(), default=here + own)
            if len(per_domain) < c.min_domains:
                lowest = 0
            if here + own - lowest > c.max_skew:
                return Status.unschedulable(REASON_CONSTRAINTS_NOT_MATCH)
        return Status.success()

    def skip(self, pod: Obj, *, state: CycleState) -> bool:
        """Sit out pods without ScheduleAnyway constraints."""
        return not constraints(pod, when=SCHEDULE_ANYWAY)

    def _prescore(self, pod: Obj, state: CycleState) -> tuple[list[Constraint], list[float], dict, set[str]]:
        soft = constraints(pod, when=SCHEDULE_ANYWAY)
        ignored = {n.name for n in state.feasible if not _has_keys(n, soft)}
        candidates = [n for n in state.feasible if n.name not in ignored]
        weights, counts = [], {}
        for c in soft:
            if c.topology_key == HOSTNAME:
                weights.append(math.log(len(candidates) + 2))
                continue
            domains = {n.labels[c.topology_key] for n in candidates}
            weights.append(math.log(len(domains) + 2))
            for value, n in domain_counts(pod, c, nodes=state.all_nodes, keys=soft).items():
                if value in domains:
                    pair = (c.topology_key, value)
                    counts[pair] = counts.get(pair, 0) + n
        return soft, weights, counts, ignored

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Return the weighted count of matching pods in the node's domains (lower is better)."""
        soft, weights, counts, ignored = state.memo(f"{NAME}/prescore", lambda: self._prescore(pod, state))
        if node.name in ignored:
            return 0
        total = 0.0
        for c, weight in zip(soft, weights, strict=True):
            value = node.labels[c.topology_key]
            if c.topology_key == HOSTNAME:
                n = count_matching(node.pods, c.selector, namespace_of(pod))
            else:
                n = counts.get((c.topology_key, value), 0)
            total += n * weight + (c.max_skew - 1)
        return math.floor(total + 0.5)

    def normalize(self, scores: Mapping[str, int], *, state: CycleState) -> dict[str, int]:
        """Reverse the scores so the node with the fewest matching pods gets 100."""
        _, _, _, ignored = state.memo(f"{NAME}/prescore", lambda: ([], [], {}, set()))
        valid = {name: s for name, s in scores.items() if name not in ignored}
        low, high = min(valid.values(), default=0), max(valid.values(), default=0)
        out = {}
        for name, s in scores.items():
            if name in ignored:
                out[name] = 0
            elif high == 0:
                out[name] = MAX_NODE_SCORE
            else:
                out[name] = MAX_NODE_SCORE * (high + low - s) // high
        return out
