"""What the scheduler knows about one node, and what a plugin answers about it.

Mirrors ``pkg/scheduler/framework/types.go`` (``NodeInfo``, ``Resource``) and the ``Status``
of ``framework/interface.go``.  Objects stay plain Kubernetes JSON dicts.

Contract:

* ``NodeInfo.requested`` sums the effective requests of the pods on the node; a pod's effective
  request is the larger of (its containers plus sidecars) and (its largest init container
  plus the sidecars started before it), plus ``spec.overhead`` -- the rule kubelet admits by.
* ``NodeInfo.non_zero_requested`` is the same with 100m cpu / 200Mi memory assumed for every
  container that names no request; only scoring reads it, so best-effort pods still spread.
* ``Status.reasons`` carry upstream's wording verbatim: they are counted into the
  FailedScheduling message users read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from kubeviz.scheduler.framework import quantity

Obj = Mapping[str, Any]

DEFAULT_MILLI_CPU_REQUEST = 100  # what scoring assumes for a container that requests no cpu
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # ... and no memory


class Code(StrEnum):
    """A plugin's verdict, as ``framework.Code`` names it."""

    SUCCESS = "Success"
    ERROR = "Error"
    UNSCHEDULABLE = "Unschedulable"
    UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
    SKIP = "Skip"


@dataclass(frozen=True)
class Status:
    """Carry a plugin's verdict, its reasons, and which plugin gave it."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @classmethod
    def success(cls) -> Status:
        """Return the verdict that lets a node pass (one shared, frozen value)."""
        return _SUCCESS

    @classmethod
    def unschedulable(cls, *reasons: str, resolvable: bool = True) -> Status:
        """Return a failing verdict; ``resolvable=False`` tells preemption not to bother."""
        code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
        return cls(code=code, reasons=tuple(reasons))

    def is_success(self) -> bool:
        """Tell whether the node passed."""
        return self.code is Code.SUCCESS

    @property
    def message(self) -> str:
        """Join the reasons the way ``Status.Message`` does."""
        return ", ".join(self.reasons)


_SUCCESS = Status()


@dataclass
class Resources:
    """Sum resource amounts: cpu in millicores, the rest in whole units."""

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    allowed_pods: int = 0
    scalars: dict[str, int] = field(default_factory=dict)

    def add(self, other: Resources) -> None:
        """Add another amount into this one."""
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        self.allowed_pods += other.allowed_pods
        for name, amount in other.scalars.items():
            self.scalars[name] = self.scalars.get(name, 0) + amount

    def set_max(self, other: Resources) -> None:
        """Raise each amount to at least the other's."""
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for name, amount in other.scalars.items():
            self.scalars[name] = max(self.scalars.get(name, 0), amount)

    def copy(self) -> Resources:
        """Return an independent copy."""
        return Resources(
            self.milli_cpu, self.memory, self.ephemeral_storage, self.allowed_pods, dict(self.scalars)
        )

    def is_zero(self) -> bool:
        """Tell whether no amount is requested (a best-effort pod)."""
        return not (self.milli_cpu or self.memory or self.ephemeral_storage or any(self.scalars.values()))


def resources_from(amounts: Obj | None, *, non_zero: bool = False) -> Resources:
    """Return the amounts of a ``requests`` / ``allocatable`` map.

    ``non_zero`` fills in the scoring defaults for cpu and memory when they are absent.
    """
    amounts = amounts or {}
    out = Resources()
    for name, text in amounts.items():
        if name == "cpu":
            out.milli_cpu = quantity.milli_value(text)
        elif name == "memory":
            out.memory = quantity.value(text)
        elif name == "ephemeral-storage":
            out.ephemeral_storage = quantity.value(text)
        elif name == "pods":
            out.allowed_pods = quantity.value(text)
        else:
            out.scalars[name] = quantity.value(text)
    if non_zero:
        out.milli_cpu = out.milli_cpu if "cpu" in amounts else DEFAULT_MILLI_CPU_REQUEST
        out.memory = out.memory if "memory" in amounts else DEFAULT_MEMORY_REQUEST
    return out


def _container_requests(container: Obj, *, non_zero: bool) -> Resources:
    return resources_from((container.get("resources") or {}).get("requests"), non_zero=non_zero)


def pod_requests(pod: Obj, *, non_zero: bool = False) -> Resources:
    """Return a pod's effective requests (init-container max rule, sidecars, overhead)."""
    spec = pod.get("spec") or {}
    total = Resources()
    for container in spec.get("containers") or []:
        total.add(_container_requests(container, non_zero=non_zero))
    sidecars, init_peak = Resources(), Resources()
    for container in spec.get("initContainers") or []:
        request = _container_requests(container, non_zero=non_zero)
        if container.get("restartPolicy") == "Always":
            # A sidecar keeps running: it adds to everything started after it.
            sidecars.add(request)
            init_peak.set_max(sidecars)
        else:
            request.add(sidecars)
            init_peak.set_max(request)
    total.add(sidecars)
    total.set_max(init_peak)
    total.add(resources_from(spec.get("overhead")))
    return total


def labels_of(obj: Obj) -> dict[str, str]:
    """Return an object's labels (empty when it has none)."""
    return dict((obj.get("metadata") or {}).get("labels") or {})


def name_of(obj: Obj) -> str:
    """Return an object's name."""
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: Obj) -> str:
    """Return an object's namespace (``default`` when unset, as the apiserver defaults it)."""
    return str((obj.get("metadata") or {}).get("namespace") or "default")


@dataclass
class NodeInfo:
    """Hold a node, the pods bound to it, and the resources they take."""

    node: Obj
    pods: list[Obj] = field(default_factory=list)
    requested: Resources = field(default_factory=Resources)
    non_zero_requested: Resources = field(default_factory=Resources)
    allocatable: Resources = field(default_factory=Resources)
    #: The pods with required anti-affinity terms (upstream's ``PodsWithRequiredAntiAffinity``):
    #: every incoming pod must respect them, so InterPodAffinity looks at these alone when the
    #: incoming pod has no terms of its own.
    anti_affinity_pods: list[Obj] = field(default_factory=list)

    @classmethod
    def build(cls, node: Obj, pods: Iterable[Obj] = ()) -> NodeInfo:
        """Return the NodeInfo of a node with these pods on it."""
        info = cls(node=node, allocatable=resources_from((node.get("status") or {}).get("allocatable")))
        for pod in pods:
            info.add_pod(pod)
        return info

    def add_pod(self, pod: Obj) -> None:
        """Account for one more pod on this node."""
        self.pods.append(pod)
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        if (affinity.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution"):
            self.anti_affinity_pods.append(pod)
        self.requested.add(pod_requests(pod))
        self.non_zero_requested.add(pod_requests(pod, non_zero=True))

    def without(self, remove: Iterable[Obj]) -> NodeInfo:
        """Return a copy of this node without the given pods (preemption's dry run)."""
        gone = {id(p) for p in remove}
        return NodeInfo.build(self.node, [p for p in self.pods if id(p) not in gone])

    @cached_property
    def name(self) -> str:
        """Return the node's name (read once: every plugin asks for it for every pod)."""
        return name_of(self.node)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Return the node's labels (a node object in the snapshot never changes)."""
        return labels_of(self.node)


def _is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def build_node_infos(nodes: Iterable[Obj], pods: Iterable[Obj]) -> list[NodeInfo]:
    """Return one NodeInfo per node, with the bound, non-terminal pods placed on their nodes.

    The scheduler's cache ignores finished pods: they hold no resources any more.
    """
    by_node: dict[str, list[Obj]] = {}
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name and not _is_terminal(pod):
            by_node.setdefault(node_name, []).append(pod)
    return [NodeInfo.build(node, by_node.get(name_of(node), [])) for node in nodes]
