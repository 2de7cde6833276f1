"""Shared matching rules: taints against tolerations, nodes against node selectors.

Mirrors ``k8s.io/component-helpers/scheduling/corev1`` (``nodeaffinity``, ``ToleratesTaint``)
and ``pkg/scheduler/framework/plugins/helper``, which several plugins share upstream too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeviz.scheduler.framework.types import Obj, labels_of, name_of

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
PREFER_NO_SCHEDULE = "PreferNoSchedule"


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Tell whether one toleration tolerates one taint.

    An empty effect tolerates every effect; an empty key with ``Exists`` tolerates every taint.
    """
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated_taint(
    taints: Iterable[Mapping[str, Any]], tolerations: Sequence[Mapping[str, Any]], *, effects: Iterable[str]
) -> Mapping[str, Any] | None:
    """Return the first taint with one of ``effects`` that no toleration tolerates."""
    wanted = set(effects)
    for taint in taints:
        if taint.get("effect") in wanted and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def taints_of(node: Obj) -> list[Mapping[str, Any]]:
    """Return a node's taints."""
    return list((node.get("spec") or {}).get("taints") or [])


def tolerations_of(pod: Obj) -> list[Mapping[str, Any]]:
    """Return a pod's tolerations."""
    return list((pod.get("spec") or {}).get("tolerations") or [])


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _requirement_matches(requirement: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    key, op = requirement.get("key") or "", requirement.get("operator")
    wanted = [str(v) for v in requirement.get("values") or []]
    present, actual = key in values, values.get(key, "")
    if op == "In":
        return present and actual in wanted
    if op == "NotIn":
        return not present or actual not in wanted
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        number, bound = _integer(actual), _integer(wanted[0]) if len(wanted) == 1 else None
        if not present or number is None or bound is None:
            return False
        return number > bound if op == "Gt" else number < bound
    return False


def term_matches(term: Mapping[str, Any], node: Obj) -> bool:
    """Tell whether a node satisfies one NodeSelectorTerm (all its requirements).

    A term with no requirements matches nothing; ``matchFields`` knows only ``metadata.name``.
    """
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = labels_of(node)
    node_fields = {"metadata.name": name_of(node)}
    return all(_requirement_matches(r, labels) for r in expressions) and all(
        r.get("key") == "metadata.name" and _requirement_matches(r, node_fields) for r in fields
    )


def required_node_affinity_matches(pod: Obj, node: Obj) -> bool:
    """Tell whether a node satisfies the pod's ``nodeSelector`` and required node affinity.

    The terms are ORed; the node selector is ANDed with them.
    """
    spec = pod.get("spec") or {}
    labels = labels_of(node)
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if terms is None:
        return True
    return any(term_matches(term, node) for term in terms)
