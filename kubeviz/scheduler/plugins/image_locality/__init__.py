"""ImageLocality: prefer nodes that already hold the pod's container images.

Mirrors ``pkg/scheduler/framework/plugins/imagelocality``.  Each image of the pod (init and
regular containers) present in the node's ``status.images`` contributes its size, scaled by the
fraction of all nodes holding it (an image everywhere says little about this node).  The sum is
clamped between 23 MiB and 1000 MiB per container and mapped linearly onto 0..100.  Image names
without a tag or digest are compared as ``:latest``.
"""

from __future__ import annotations

from kubeviz.scheduler.framework.interface import MAX_NODE_SCORE, CycleState, ScorePlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """Return the image name with ``:latest`` added when it has no tag or digest."""
    return name if name.rfind(":") > name.rfind("/") else f"{name}:latest"


def node_images(node: NodeInfo) -> dict[str, int]:
    """Return image name -> size for every name the node reports."""
    out: dict[str, int] = {}
    for image in (node.node.get("status") or {}).get("images") or []:
        for name in image.get("names") or []:
            out[name] = int(image.get("sizeBytes") or 0)
    return out


def image_spread(state: CycleState) -> dict[str, int]:
    """Return, per image name, how many nodes of the cycle hold it (computed once a cycle)."""

    def count() -> dict[str, int]:
        spread: dict[str, int] = {}
        for node in state.all_nodes:
            for name in node_images(node):
                spread[name] = spread.get(name, 0) + 1
        return spread

    return state.memo(f"{NAME}/spread", count)


def priority(total: int, containers: int) -> int:
    """Map a summed, spread-scaled image size onto 0..100."""
    top = MAX_CONTAINER_THRESHOLD * containers
    clamped = min(max(total, MIN_THRESHOLD), top)
    return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (top - MIN_THRESHOLD)


class ImageLocality(ScorePlugin):
    """Score nodes by the size of the pod's images they already have."""

    NAME = NAME

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Return 0..100 from the spread-scaled sizes of images present on the node."""
        spec = pod.get("spec") or {}
        containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
        images, spread, nodes = node_images(node), image_spread(state), len(state.all_nodes)
        total = 0
        for container in containers:
            name = normalized_image_name(container.get("image") or "")
            if name in images:
                total += int(images[name] * (spread[name] / nodes))
        return priority(total, len(containers)) if containers else 0
