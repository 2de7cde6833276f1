"""The kubelet's read API, as kube-apiserver reaches it for ``pods/log``.

Mirrors the kubelet server's ``/containerLogs/<namespace>/<pod>/<container>`` endpoint: the
apiserver asks the kubelet of the pod's node for what the container wrote.  Here that is the
log the runtime kept for the container (``Container.log``): its lifecycle lines.
``previous`` asks for the attempt before the current one, as ``kubectl logs -p`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kubeviz.kubelet.models import Container


class NoPreviousContainer(Exception):
    """``previous`` was asked for, but the container has not been restarted."""


def container_log(
    *, cluster: str, node: str, pod_uid: str, container: str, previous: bool = False
) -> list[tuple[str, str]]:
    """Return ``(RFC 3339 timestamp, line)`` pairs of a container's current (or previous) attempt."""
    attempts = list(
        Container.objects.filter(
            sandbox__cluster=cluster, sandbox__node=node, sandbox__pod_uid=pod_uid, name=container
        ).order_by("-attempt")[:2]
    )
    if previous:
        if len(attempts) < 2:
            raise NoPreviousContainer(container)
        chosen = attempts[1]
    elif attempts:
        chosen = attempts[0]
    else:
        return []
    return [
        (datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace("000Z", "Z"), line)
        for at, line in chosen.log
    ]
