"""The inspector's actions on one object, each a single Kubernetes API request as ``kubeviz-web``.

* ``scale``: PATCH the ``scale`` subresource (``kubectl scale``).
* ``delete``: DELETE with the chosen ``propagationPolicy``: Foreground (the owner goes last,
  after its dependents), Background (the owner goes now, the garbage collector removes the
  rest) or Orphan (the dependents stay, without their owner).
* ``restart``: stamp the pod template with ``kubectl.kubernetes.io/restartedAt`` (what
  ``kubectl rollout restart`` does), so the controller rolls out fresh pods.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubeviz.client import rest
from kubeviz.web.apply import FIELD_MANAGER

ACTIONS = ("scale", "delete", "restart")
PROPAGATION = ("Foreground", "Background", "Orphan")
SCALABLE = {"Deployment", "ReplicaSet", "StatefulSet"}
RESTARTABLE = {"Deployment", "StatefulSet", "DaemonSet"}
MAX_REPLICAS = 1000


class ActionInvalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check(action: str, kind: str, body: dict[str, Any]) -> None:
    """Raise ``ActionInvalid`` naming the field when an action cannot apply to this kind."""
    if action not in ACTIONS:
        raise ActionInvalid("action", f"must be one of {', '.join(ACTIONS)}")
    if action == "scale":
        if kind not in SCALABLE:
            raise ActionInvalid("kind", f"{kind} cannot be scaled; scale its Deployment or StatefulSet")
        replicas = body.get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or not 0 <= replicas <= MAX_REPLICAS:
            raise ActionInvalid("replicas", f"must be a whole number from 0 to {MAX_REPLICAS}")
    if action == "restart" and kind not in RESTARTABLE:
        raise ActionInvalid(
            "kind", f"{kind} has no rollout to restart (only Deployments, StatefulSets and DaemonSets do)"
        )
    if action == "delete" and body.get("propagationPolicy", "Background") not in PROPAGATION:
        raise ActionInvalid("propagationPolicy", f"must be one of {', '.join(PROPAGATION)}")


def run(
    client: rest.Client,
    res: rest.Resource,
    *,
    action: str,
    name: str,
    namespace: str | None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Carry out one checked action; API errors propagate as ``rest.ClientError``."""
    if action == "scale":
        return client.scale(res, name, replicas=body["replicas"], namespace=namespace)
    if action == "delete":
        return client.delete(
            res, name, namespace=namespace, propagation_policy=body.get("propagationPolicy", "Background")
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}
    }
    return client.patch(
        res,
        name,
        patch,
        namespace=namespace,
        patch_type=rest.PatchType.STRATEGIC,
        field_manager=FIELD_MANAGER,
    )
