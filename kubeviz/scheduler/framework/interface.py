"""The plugin contracts of the scheduling framework, and the score arithmetic they share.

Mirrors ``pkg/scheduler/framework/interface.go`` (Filter, Score, ScoreExtensions) and the
default normalisation helper of ``plugins/helper``.  PreFilter and PreScore are not separate
extension points here: a plugin that needs per-cycle precomputation memoises it in the
``CycleState`` it is handed, which is what upstream's pre-phases exist for.

Contract:

* A plugin is stateless between cycles; everything about one scheduling attempt lives in the
  ``CycleState`` (the incoming pod's snapshot of every node, and the nodes that passed filters).
* ``filter`` must not mutate the pod or the node; it answers a ``Status`` whose reasons use
  upstream's wording.
* ``score`` returns a raw integer; ``normalize`` maps the raw scores of all feasible nodes into
  ``0..MAX_NODE_SCORE``; the runner multiplies by the profile weight and sums.
* ``skip`` lets a score plugin sit a cycle out (upstream's PreScore ``Skip``); a skipped plugin
  contributes nothing to any node.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0

T = TypeVar("T")


@dataclass
class CycleState:
    """Hold what one scheduling attempt knows: every node, the feasible ones, and memos."""

    all_nodes: Sequence[NodeInfo]
    feasible: Sequence[NodeInfo] = ()
    _memo: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Return the value computed once per cycle under ``key``."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


class Plugin:
    """Name a plugin; subclasses set ``NAME`` to upstream's plugin name."""

    NAME: ClassVar[str] = ""


class FilterPlugin(Plugin, ABC):
    """Decide whether a pod may run on a node.

    Return ``Status.success()`` to let the node pass, or an unschedulable status with
    upstream's reasons.  Use ``resolvable=False`` when evicting pods could never help (the
    node's labels, taints or name are wrong), so preemption skips the node.
    """

    @abstractmethod
    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Return this plugin's verdict for ``pod`` on ``node``."""


class ScorePlugin(Plugin, ABC):
    """Rank the feasible nodes for a pod.

    ``score`` returns a raw integer for one node; ``normalize`` receives every feasible node's
    raw score and returns scores in ``0..MAX_NODE_SCORE`` (the default keeps them unchanged).
    """

    def skip(self, pod: Obj, *, state: CycleState) -> bool:
        """Tell whether this plugin has nothing to say about ``pod`` this cycle."""
        return False

    @abstractmethod
    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Return the raw score of ``node`` for ``pod``."""

    def normalize(self, scores: Mapping[str, int], *, state: CycleState) -> dict[str, int]:
        """Return the raw scores mapped into ``0..MAX_NODE_SCORE``."""
        return dict(scores)


def default_normalize(scores: Mapping[str, int], *, reverse: bool = False) -> dict[str, int]:
    """Scale scores so the highest becomes MAX_NODE_SCORE; ``reverse`` makes fewer better.

    All-zero scores stay zero, or all become MAX_NODE_SCORE when reversed.
    """
    top = max(scores.values(), default=0)
    if top == 0:
        return {name: MAX_NODE_SCORE if reverse else 0 for name in scores}
    out = {}
    for name, raw in scores.items():
        scaled = MAX_NODE_SCORE * raw // top
        out[name] = MAX_NODE_SCORE - scaled if reverse else scaled
    return out


@dataclass(frozen=True)
class Registry:
    """Name every plugin and the profile to run: filters in order, scores with weights."""

    plugins: Mapping[str, type[Plugin]]
    filters: tuple[str, ...]
    scores: Mapping[str, int]

    def filter_plugins(self) -> list[FilterPlugin]:
        """Return fresh instances of the profile's filter plugins, in order."""
        return [_instance(self.plugins[name], FilterPlugin) for name in self.filters]

    def score_plugins(self) -> list[tuple[ScorePlugin, int]]:
        """Return fresh instances of the profile's score plugins with their weights."""
        return [(_instance(self.plugins[name], ScorePlugin), weight) for name, weight in self.scores.items()]


P = TypeVar("P", bound=Plugin)


def _instance(cls: type[Plugin], kind: type[P]) -> P:
    plugin = cls()
    if not isinstance(plugin, kind):
        raise TypeError(f"{cls.NAME} is not a {kind.__name__}")
    return plugin
