"""Run one scheduling cycle for one pod: filter every node, score the feasible ones, pick.

Mirrors ``pkg/scheduler/schedule_one.go`` (``schedulePod``, ``findNodesThatFitPod``,
``prioritizeNodes``, ``selectHost``), the runtime framework's filter/score loops, ``FitError``
and the part of DefaultPreemption that explains why preemption cannot help.

What it keeps and simplifies:

* Every filter runs on every node so the UI can show each plugin's verdict
  (``verdicts[node][plugin]``); the *decisive* status of a node is its first failing filter in
  profile order -- the only one upstream runs far enough to see, and the one its message counts.
* Up to 100 nodes every node is filtered.  Above that, filtering stops once enough feasible
  nodes are found (upstream's adaptive ``percentageOfNodesToScore``: 50% minus 1% per 125
  nodes, at least 5% and at least 100 nodes), starting where the previous cycle stopped
  (``start``, the caller's ``nextStartNodeIndex``).  Verdicts are kept for the nodes filtered.
* With one feasible node upstream skips scoring; so does this runner.
* Ties on the weighted total go to the node whose name sorts first, so results replay
  identically; upstream picks uniformly at random among the tied nodes.
* Preemption is a dry run only: it says which nodes evicting lower-priority pods would free,
  and builds upstream's "preemption: ..." sentence when none would; it evicts nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin, Registry
from kubeviz.scheduler.framework.types import Code, NodeInfo, Obj, Status

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."


@dataclass(frozen=True)
class PluginScore:
    """Hold one plugin's score for one node: raw, normalised, and weighted."""

    raw: int
    normalized: int
    weight: int

    @property
    def weighted(self) -> int:
        """Return the normalised score times the plugin's weight."""
        return self.normalized * self.weight


@dataclass
class Result:
    """Keep everything one cycle decided, for the binder and for the UI."""

    selected: str | None = None
    verdicts: dict[str, dict[str, Status]] = field(default_factory=dict)
    decisive: dict[str, Status] = field(default_factory=dict)
    feasible: list[str] = field(default_factory=list)
    scores: dict[str, dict[str, PluginScore]] = field(default_factory=dict)
    skipped_scores: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    preemption_statuses: dict[str, Status] = field(default_factory=dict)
    preemption_candidates: list[str] = field(default_factory=list)
    post_filter_message: str = ""
    #: How many nodes were filtered (the caller advances its start index by this much).
    processed: int = 0


def run_filters(
    pod: Obj, node: NodeInfo, *, filters: Sequence[FilterPlugin], state: CycleState
) -> dict[str, Status]:
    """Return every filter plugin's verdict for one node, tagged with the plugin's name."""
    out = {}
    for plugin in filters:
        status = plugin.filter(pod, node, state=state)
        if status.is_success():
            out[plugin.NAME] = _passed(plugin.NAME)
        else:
            out[plugin.NAME] = Status(code=status.code, reasons=status.reasons, plugin=plugin.NAME)
    return out


@cache
def _passed(plugin: str) -> Status:
    """Return the (shared, frozen) success verdict of one plugin."""
    return Status(plugin=plugin)


def first_failure(verdicts: dict[str, Status]) -> Status | None:
    """Return the first failing verdict in profile order, the one upstream reports."""
    return next((s for s in verdicts.values() if not s.is_success()), None)


def _priority(pod: Obj) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def reasons_histogram(statuses: Iterable[Status]) -> list[str]:
    """Return "<count> <reason>" for every reason, sorted as strings the way upstream sorts them."""
    counts = Counter(reason for status in statuses for reason in status.reasons)
    return sorted(f"{n} {reason}" for reason, n in counts.items())


def fit_error_text(total_nodes: int, statuses: Iterable[Status], post_filter: str = "") -> str:
    """Return upstream's ``FitError`` text: "0/N nodes are available: <reasons>. <post filter>."."""
    text = f"0/{total_nodes} nodes are available:"
    histogram = reasons_histogram(statuses)
    if histogram:
        text += f" {', '.join(histogram)}."
    if post_filter:
        text += f" {post_filter}."
    return text


def fit_error_message(result: Result, total_nodes: int) -> str:
    """Return the FailedScheduling event message for a cycle that found no node."""
    return fit_error_text(total_nodes, result.decisive.values(), result.post_filter_message)


def _dry_run_preemption(
    pod: Obj, node_infos: Sequence[NodeInfo], *, registry: Registry, result: Result
) -> None:
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        result.post_filter_message = f"preemption: {NOT_ELIGIBLE_NEVER}"
        return
    filters = registry.filter_plugins()
    for index, node in enumerate(node_infos):
        if result.decisive[node.name].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            result.preemption_statuses[node.name] = Status.unschedulable(NOT_HELPFUL, resolvable=False)
            continue
        victims = [p for p in node.pods if _priority(p) < _priority(pod)]
        if not victims:
            result.preemption_statuses[node.name] = Status.unschedulable(NO_VICTIMS, resolvable=False)
            continue
        emptied = node.without(victims)
        others = [*node_infos[:index], emptied, *node_infos[index + 1 :]]
        failure = first_failure(
            run_filters(pod, emptied, filters=filters, state=CycleState(all_nodes=others))
        )
        if failure is None:
            result.preemption_candidates.append(node.name)
        else:
            result.preemption_statuses[node.name] = failure
    if not result.preemption_candidates:
        text = fit_error_text(len(node_infos), result.preemption_statuses.values())
        result.post_filter_message = f"preemption: {text}"


def _score(
    pod: Obj, feasible: Sequence[NodeInfo], *, registry: Registry, state: CycleState, result: Result
) -> None:
    result.scores = {node.name: {} for node in feasible}
    for plugin, weight in registry.score_plugins():
        if plugin.skip(pod, state=state):
            result.skipped_scores.append(plugin.NAME)
            continue
        raw = {node.name: plugin.score(pod, node, state=state) for node in feasible}
        normalized = plugin.normalize(raw, state=state)
        for name in raw:
            result.scores[name][plugin.NAME] = PluginScore(raw[name], normalized[name], weight)
    result.totals = {name: sum(s.weighted for s in per.values()) for name, per in result.scores.items()}


MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(total: int, percentage: int = 0) -> int:
    """Return how many feasible nodes a cycle looks for before it stops filtering (upstream's rule)."""
    if total < MIN_FEASIBLE_NODES_TO_FIND:
        return total
    if percentage == 0:
        percentage = max(50 - total // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(total * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def schedule_one(pod: Obj, node_infos: Sequence[NodeInfo], *, registry: Registry, start: int = 0) -> Result:
    """Decide where ``pod`` goes among ``node_infos``, keeping every verdict and score."""
    result = Result()
    state = CycleState(all_nodes=node_infos)
    filters = registry.filter_plugins()
    feasible = []
    want = num_feasible_nodes_to_find(len(node_infos))
    start = start % len(node_infos) if node_infos else 0
    for node in [*node_infos[start:], *node_infos[:start]]:
        result.processed += 1
        verdicts = run_filters(pod, node, filters=filters, state=state)
        result.verdicts[node.name] = verdicts
        failure = first_failure(verdicts)
        if failure is None:
            feasible.append(node)
            if len(feasible) >= want:
                break
        else:
            result.decisive[node.name] = failure
    result.feasible = [node.name for node in feasible]
    if not feasible:
        _dry_run_preemption(pod, node_infos, registry=registry, result=result)
        return result
    if len(feasible) == 1:
        result.selected = feasible[0].name
        return result
    state.feasible = feasible
    _score(pod, feasible, registry=registry, state=state, result=result)
    result.selected = min(result.totals, key=lambda name: (-result.totals[name], name))
    return result
