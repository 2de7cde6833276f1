"""Workload manifests the control-plane tests create: one builder each, with the usual defaults."""

from __future__ import annotations

from typing import Any


def workload(
    kind: str,
    name: str,
    replicas: int,
    *,
    image: str = "nginx:1.27",
    namespace: str = "default",
    pod_spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return an apps/v1 Deployment or ReplicaSet whose pods are labelled ``app: <name>``."""
    labels = {"app": name}
    spec = {"containers": [{"name": "web", "image": image}], **(pod_spec or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def replicaset(name: str, replicas: int = 3, **options: Any) -> dict[str, Any]:
    return workload("ReplicaSet", name, replicas, **options)


def deployment(name: str, replicas: int = 3, **options: Any) -> dict[str, Any]:
    return workload("Deployment", name, replicas, **options)
