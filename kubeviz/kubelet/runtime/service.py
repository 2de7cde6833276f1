"""A containerd-like container runtime with CRI-shaped calls, over node-state models.

Mirrors the CRI's ``RuntimeService`` and ``ImageService`` as the kubelet's
``kuberuntime`` manager uses them: RunPodSandbox / StopPodSandbox / RemovePodSandbox,
PullImage / ImageStatus, CreateContainer / StartContainer / StopContainer / RemoveContainer
and ListContainers.  The state is ``kubelet.models`` rows of one node.

Nothing runs: a container's life is its behaviour (``behaviour.py``), fixed when it starts as
``exits_at``.  Time-driven changes are settled lazily: every call that reads containers first
moves those whose exit or kill time has passed to ``CONTAINER_EXITED`` with the time it
happened, so the outcome does not depend on when the kubelet looks.  The clock is injected.

Image pulls take time (size over a fixed bandwidth) and are cached per node, so a second pod
with the same image starts faster; the node's image list is what ImageLocality scores.
Every call is recorded as a node-local action for the explorer.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from kubeviz.client import nodeactions
from kubeviz.kubelet.cni.plugin import CNI
from kubeviz.kubelet.models import Container, Image, Sandbox
from kubeviz.kubelet.runtime.behaviour import Behaviour, command_line

RUNTIME = "containerd"
RUNTIME_VERSION = "containerd://2.1.0"
#: Simulated registry bandwidth, bytes per second.
PULL_BANDWIDTH = 120 * 1024 * 1024
#: Well-known images and their compressed sizes; others get a size derived from the name.
IMAGE_SIZES = {
    "registry.k8s.io/pause:3.10": 320_368,
    "nginx": 72_000_000,
    "busybox": 2_160_000,
    "registry.k8s.io/coredns/coredns:v1.12.1": 22_000_000,
    "registry.k8s.io/kube-proxy:v1.36.0": 30_500_000,
}
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
#: How long a server takes to exit after SIGTERM; shells running ``sleep`` ignore it (PID 1).
SIGTERM_EXIT_SECONDS = 0.2


def image_size(name: str) -> int:
    """Return an image's size: known ones as published, others 5–150 MB from the name's hash."""
    base = name.split("@", 1)[0]
    bare = base.rsplit(":", 1)[0] if ":" in base.rsplit("/", 1)[-1] else base
    for key in (base, bare):
        if key in IMAGE_SIZES:
            return IMAGE_SIZES[key]
    digest = int(hashlib.sha256(base.encode()).hexdigest()[:8], 16)
    return 5_000_000 + digest % 145_000_000


def image_digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def normalise_image(name: str) -> str:
    """Return the reference the runtime stores: ``docker.io/library/nginx:latest`` for ``nginx``."""
    if "@" in name:
        return name
    ref = name
    if ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        return f"docker.io/library/{ref}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{ref}"
    return ref


class Runtime:
    """One node's runtime.  Every method is one CRI call; none blocks."""

    def __init__(
        self, *, cluster: str, node: str, clock: Callable[[], float], cni: CNI | None = None
    ) -> None:
        self.cluster = cluster
        self.node = node
        self.clock = clock
        self.cni = cni

    def _record(self, action: str, **detail: Any) -> None:
        nodeactions.record(
            cluster=self.cluster, node=self.node, component="containerd", action=action, detail=detail
        )

    # --- sandboxes ----------------------------------------------------------------------------

    def sandboxes(self, *, namespace: str | None = None, pod: str | None = None) -> list[Sandbox]:
        rows = Sandbox.objects.filter(cluster=self.cluster, node=self.node)
        if namespace is not None:
            rows = rows.filter(namespace=namespace)
        if pod is not None:
            rows = rows.filter(pod=pod)
        return list(rows.order_by("created_at", "id"))

    def run_pod_sandbox(self, *, pod: Mapping[str, Any], attempt: int = 0) -> Sandbox:
        """Create a sandbox and, unless the pod uses the host's network, attach it through CNI.

        Raises ``CNIError`` (and leaves nothing behind) when the plugin cannot attach it.
        """
        meta, spec = pod["metadata"], pod.get("spec") or {}
        now = self.clock()
        sandbox_id = secrets.token_hex(32)
        host_network = bool(spec.get("hostNetwork"))
        ip = interface = ""
        if not host_network and self.cni is not None:
            attached = self.cni.add(
                sandbox_id=sandbox_id, namespace=meta["namespace"], pod=meta["name"], now=now
            )
            ip, interface = attached.ip, attached.interface
        try:
            sandbox = Sandbox.objects.create(
                cluster=self.cluster,
                node=self.node,
                sandbox_id=sandbox_id,
                pod_uid=meta.get("uid", ""),
                namespace=meta["namespace"],
                pod=meta["name"],
                attempt=attempt,
                host_network=host_network,
                ip=ip,
                interface=interface,
                created_at=now,
            )
        except IntegrityError:
            if self.cni is not None and not host_network:
                self.cni.delete(sandbox_id=sandbox_id, namespace=meta["namespace"], pod=meta["name"])
            raise
        self._record(
            "RunPodSandbox", pod=f"{meta['namespace']}/{meta['name']}", sandbox=sandbox_id[:13], ip=ip
        )
        return sandbox

    def stop_pod_sandbox(self, sandbox: Sandbox) -> None:
        """Stop every container of the sandbox at once and detach its network (CNI DEL)."""
        now = self.clock()
        for c in self.list_containers(sandbox=sandbox):
            if c.state != Container.EXITED:
                self._exit(c, at=now, code=137, reason="Error")
        if sandbox.state != Sandbox.NOTREADY:
            if self.cni is not None and not sandbox.host_network:
                self.cni.delete(sandbox_id=sandbox.sandbox_id, namespace=sandbox.namespace, pod=sandbox.pod)
            sandbox.state = Sandbox.NOTREADY
            sandbox.save(update_fields=["state"])
            self._record(
                "StopPodSandbox", pod=f"{sandbox.namespace}/{sandbox.pod}", sandbox=sandbox.sandbox_id[:13]
            )

    def remove_pod_sandbox(self, sandbox: Sandbox) -> None:
        self.stop_pod_sandbox(sandbox)
        sandbox.delete()
        self._record(
            "RemovePodSandbox", pod=f"{sandbox.namespace}/{sandbox.pod}", sandbox=sandbox.sandbox_id[:13]
        )

    # --- images -------------------------------------------------------------------------------

    def image_status(self, name: str) -> Image | None:
        """Return the image if the node has it (or is pulling it), else None."""
        return Image.objects.filter(cluster=self.cluster, node=self.node, name=normalise_image(name)).first()

    def pull_image(self, name: str) -> Image:
        """Start pulling an image (or join a pull in progress); it is usable from ``pulled_at``."""
        ref = normalise_image(name)
        found = self.image_status(ref)
        if found is not None:
            return found
        now = self.clock()
        size = image_size(ref)
        try:
            with transaction.atomic():
                image = Image.objects.create(
                    cluster=self.cluster,
                    node=self.node,
                    name=ref,
                    digest=image_digest(ref),
                    size=size,
                    pull_started_at=now,
                    pulled_at=now + size / PULL_BANDWIDTH,
                )
        except IntegrityError:  # a concurrent pull of the same image: join it
            found = self.image_status(ref)
            assert found is not None
            return found
        self._record("PullImage", image=ref, size=size)
        return image

    def images(self) -> list[Image]:
        now = self.clock()
        return list(
            Image.objects.filter(cluster=self.cluster, node=self.node, pulled_at__lte=now).order_by(
                "-size", "name"
            )
        )

    # --- containers ---------------------------------------------------------------------------

    def create_container(
        self, *, sandbox: Sandbox, spec: Mapping[str, Any], attempt: int, behaviour: Behaviour
    ) -> Container:
        ref = normalise_image(spec.get("image") or "")
        image = self.image_status(ref)
        container = Container.objects.create(
            sandbox=sandbox,
            container_id=secrets.token_hex(32),
            name=spec["name"],
            image=spec.get("image") or "",
            image_id=f"{ref.rsplit(':', 1)[0]}@{image.digest}" if image is not None else "",
            attempt=attempt,
            created_at=self.clock(),
            planned_exit_code=behaviour.exit_code,
            planned_reason=behaviour.reason if behaviour.runs_for is not None else "",
        )
        self._record(
            "CreateContainer",
            pod=f"{sandbox.namespace}/{sandbox.pod}",
            container=spec["name"],
            attempt=attempt,
        )
        return container

    def start_container(self, container: Container, *, behaviour: Behaviour, spec: Mapping[str, Any]) -> None:
        now = self.clock()
        container.state = Container.RUNNING
        container.started_at = now
        container.exits_at = None if behaviour.runs_for is None else now + behaviour.runs_for
        line = command_line(spec) or f"{container.image} (image entrypoint)"
        log = [[now, f"starting: {line}"]]
        if behaviour.runs_for is None:
            for port in spec.get("ports") or []:
                log.append(
                    [now, f"listening on 0.0.0.0:{port.get('containerPort')}/{port.get('protocol', 'TCP')}"]
                )
        container.log = log
        container.save(update_fields=["state", "started_at", "exits_at", "log"])
        self._record(
            "StartContainer",
            pod=f"{container.sandbox.namespace}/{container.sandbox.pod}",
            container=container.name,
        )

    def stop_container(self, container: Container, *, timeout: float, handles_sigterm: bool = True) -> None:
        """Send SIGTERM now and SIGKILL after ``timeout`` seconds unless it has exited by then."""
        self._settle([container])
        if container.state == Container.EXITED or container.stop_requested_at is not None:
            return
        now = self.clock()
        if container.state == Container.CREATED:
            self._exit(container, at=now, code=0, reason="Completed")
            return
        container.stop_requested_at = now
        container.kill_at = now + (min(SIGTERM_EXIT_SECONDS, timeout) if handles_sigterm else timeout)
        container.log = [*container.log, [now, "received SIGTERM"]]
        container.save(update_fields=["stop_requested_at", "kill_at", "log"])
        self._record(
            "StopContainer",
            pod=f"{container.sandbox.namespace}/{container.sandbox.pod}",
            container=container.name,
            timeout=timeout,
        )

    def kill_container(self, container: Container, *, code: int, reason: str, message: str = "") -> None:
        """End a running container at once (a failed liveness probe's kill, or the OOM killer)."""
        self._settle([container])
        if container.state != Container.EXITED:
            self._exit(container, at=self.clock(), code=code, reason=reason, message=message)

    def remove_container(self, container: Container) -> None:
        container.delete()
        self._record(
            "RemoveContainer",
            pod=f"{container.sandbox.namespace}/{container.sandbox.pod}",
            container=container.name,
        )

    def list_containers(
        self, *, sandbox: Sandbox | None = None, pod_uid: str | None = None
    ) -> list[Container]:
        """Return the containers (of one sandbox, one pod, or the node), settled to the present."""
        rows = Container.objects.filter(sandbox__cluster=self.cluster, sandbox__node=self.node)
        if sandbox is not None:
            rows = rows.filter(sandbox=sandbox)
        if pod_uid is not None:
            rows = rows.filter(sandbox__pod_uid=pod_uid)
        found = list(rows.select_related("sandbox").order_by("name", "attempt"))
        self._settle(found)
        return found

    def _settle(self, containers: list[Container]) -> None:
        now = self.clock()
        for c in containers:
            if c.state != Container.RUNNING:
                continue
            if c.kill_at is not None and c.kill_at <= now and (c.exits_at is None or c.kill_at < c.exits_at):
                graceful = (
                    c.stop_requested_at is not None
                    and c.kill_at - c.stop_requested_at <= SIGTERM_EXIT_SECONDS
                )
                self._exit(
                    c, at=c.kill_at, code=0 if graceful else 137, reason="Completed" if graceful else "Error"
                )
            elif c.exits_at is not None and c.exits_at <= now:
                self._exit(c, at=c.exits_at, code=c.planned_exit_code, reason=c.planned_reason or "Completed")

    def _exit(self, c: Container, *, at: float, code: int, reason: str, message: str = "") -> None:
        c.state = Container.EXITED
        c.finished_at = at
        c.exit_code = code
        c.reason = reason
        c.message = message
        line = "killed: out of memory" if reason == "OOMKilled" else f"exited with code {code}"
        c.log = [*c.log, [at, line]]
        c.save(update_fields=["state", "finished_at", "exit_code", "reason", "message", "log"])
        self._record(
            "ContainerExited",
            pod=f"{c.sandbox.namespace}/{c.sandbox.pod}",
            container=c.name,
            exitCode=code,
            reason=reason,
        )
