"""The kubelet's pod worker: one ``sync`` per pod key brings the runtime to what the pod asks.

Mirrors ``SyncPod`` / ``SyncTerminatingPod`` in ``pkg/kubelet/kubelet.go`` and
``kuberuntime_manager.go``'s ``computePodActions``: make sure the sandbox exists (with its CNI
attachment), pull images, create and start containers, restart the ones that exited as
``restartPolicy`` says with the CrashLoopBackOff delay (10 s doubling to 5 min, divided by
the cluster's speed), run the probes, and write ``pods/status``.  A pod marked for deletion is
stopped within its grace period, its sandbox torn down, and then deleted for good
(``gracePeriodSeconds=0``), which is the kubelet's half of a graceful delete.  A key whose pod
is gone (or moved) has its leftover sandboxes removed, as the kubelet's housekeeping does.

The sync is level-based: it reads the pod from the kubelet's cache and the containers from the
runtime, does the next steps that are due and asks to be run again when the next timed thing
(a pull, an exit, a back-off, a probe) falls due.  Running it twice does no harm.

Probes are data too: a container is ready ``initialDelaySeconds`` after it started unless
its pod's ``kubeviz.io/fail-readiness`` annotation says it never passes; a failing readiness
probe is reported as ``Unhealthy`` each ``periodSeconds``.  Probe timings are the user's and
are not scaled by the cluster's speed.

Events use the kubelet's reasons and messages: Pulling, Pulled, Created, Started, Killing,
BackOff, Unhealthy, FailedCreatePodSandBox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kubeviz.client import PODS, APIStatusError, Client, Preconditions
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.events import EventRecorder
from kubeviz.client.sharedcache import SharedLister
from kubeviz.dns import server as dns_server
from kubeviz.kubelet import switches
from kubeviz.kubelet.cni.plugin import CNIError
from kubeviz.kubelet.models import Container, Sandbox
from kubeviz.kubelet.runtime.behaviour import (
    Behaviour,
    BehaviourError,
    behaviour,
    command_line,
    restart_backoff,
)
from kubeviz.kubelet.runtime.service import Runtime
from kubeviz.kubelet.status import ContainerView, Terminated, pod_status, status_changed

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DEFAULT_GRACE_SECONDS = 30
#: How soon a sandbox that could not be created is tried again (seconds at speed 1).
SANDBOX_RETRY_SECONDS = 5.0
#: The kubelet forgets a container's back-off once it ran this long without exiting.
BACKOFF_RESET_SECONDS = 600.0


@dataclass
class PodContext:
    """What one pod sync may use: the node's kubelet and its runtime."""

    cluster: str
    node: str
    node_ip: str
    info: ClusterInfo
    client: Client
    pods: SharedLister
    runtime: Runtime
    events: EventRecorder
    clock: Callable[[], float]
    requeue: Callable[[float], None]
    #: The earliest delay (seconds) a step asked for; the sync requeues once with it.
    wake: list[float] = field(default_factory=list)

    def after(self, seconds: float) -> None:
        self.wake.append(max(seconds, 0.05))


def container_path(name: str) -> str:
    return f"spec.containers{{{name}}}"


def _as_pod(obj: Mapping[str, Any]) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", **obj}


def sync(ctx: PodContext, namespace: str, name: str) -> None:
    """Converge one pod of this node; see the module docstring."""
    pod = ctx.pods.get(namespace, name)
    sandboxes = ctx.runtime.sandboxes(namespace=namespace, pod=name)
    if pod is None or (pod.get("spec") or {}).get("nodeName") != ctx.node:
        for sandbox in sandboxes:
            ctx.runtime.remove_pod_sandbox(sandbox)
        return
    pod = _as_pod(pod)
    uid = pod["metadata"].get("uid", "")
    for sandbox in sandboxes:
        if sandbox.pod_uid != uid:  # a pod of the same name that was deleted and created again
            ctx.runtime.remove_pod_sandbox(sandbox)
    mine = [s for s in sandboxes if s.pod_uid == uid]
    if pod["metadata"].get("deletionTimestamp"):
        terminate(ctx, pod, mine)
    elif (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        for sandbox in mine:
            ctx.runtime.stop_pod_sandbox(sandbox)
    else:
        run(ctx, pod, mine)
    if ctx.wake:
        ctx.requeue(min(ctx.wake))


# --- running ------------------------------------------------------------------------------------


def run(ctx: PodContext, pod: Obj, sandboxes: list[Sandbox]) -> None:
    spec = pod.get("spec") or {}
    annotations = pod["metadata"].get("annotations") or {}
    ready = [s for s in sandboxes if s.state == Sandbox.READY]
    sandbox = ready[-1] if ready else None
    if sandbox is None:
        try:
            sandbox = ctx.runtime.run_pod_sandbox(pod=pod, attempt=len(sandboxes))
        except CNIError as exc:
            ctx.events.warning(
                pod,
                "FailedCreatePodSandBox",
                "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network "
                f"for sandbox: {exc}",
            )
            ctx.after(SANDBOX_RETRY_SECONDS / ctx.info.speed)
            write_status(ctx, pod, [_waiting(c) for c in spec.get("containers") or []], sandbox=None)
            return
    history: dict[str, list[Container]] = {c["name"]: [] for c in spec.get("containers") or []}
    for c in ctx.runtime.list_containers(pod_uid=pod["metadata"].get("uid", "")):
        if c.name in history:
            history[c.name].append(c)
    allowed = switches.allowed(ctx.cluster, ctx.node, pod)
    views = []
    for container in spec.get("containers") or []:
        try:
            planned = behaviour(container, annotations=annotations)
        except BehaviourError as exc:
            views.append(_waiting(container, reason="CreateContainerConfigError", message=str(exc)))
            ctx.events.warning(pod, "Failed", f"Error: {exc}", field_path=container_path(container["name"]))
            continue
        attempts = sorted(history[container["name"]], key=lambda c: c.attempt)
        views.append(sync_container(ctx, pod, sandbox, container, attempts, planned=planned, allowed=allowed))
    write_status(ctx, pod, views, sandbox=sandbox)


def _waiting(
    container: Mapping[str, Any], *, reason: str = "ContainerCreating", message: str = ""
) -> ContainerView:
    return ContainerView(
        name=container["name"],
        image=container.get("image", ""),
        waiting_reason=reason,
        waiting_message=message,
    )


def _terminated(c: Container) -> Terminated:
    assert c.finished_at is not None
    return Terminated(
        exit_code=c.exit_code if c.exit_code is not None else 0,
        reason=c.reason or "Completed",
        started_at=c.started_at,
        finished_at=c.finished_at,
        container_id=c.container_id,
        message=c.message,
    )


def _should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def sync_container(
    ctx: PodContext,
    pod: Obj,
    sandbox: Sandbox,
    container: Mapping[str, Any],
    attempts: list[Container],
    *,
    planned: Behaviour,
    allowed: bool,
) -> ContainerView:
    """Take the next step for one container and return how the status shows it."""
    name = container["name"]
    now = ctx.clock()
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    latest = attempts[-1] if attempts else None
    previous = next((c for c in reversed(attempts[:-1]) if c.state == Container.EXITED), None)
    restarts = latest.attempt if latest is not None else 0
    base = ContainerView(name=name, image=container.get("image", ""), restart_count=restarts)

    if latest is not None and latest.state == Container.RUNNING:
        if not allowed:  # its component was switched off: the process dies
            ctx.runtime.kill_container(latest, code=1, reason="Error", message="stopped from the explorer")
            return sync_container(ctx, pod, sandbox, container, attempts, planned=planned, allowed=allowed)
        if latest.exits_at is not None:
            ctx.after(latest.exits_at - now)
        if latest.kill_at is not None:
            ctx.after(latest.kill_at - now)
        if failed_liveness(ctx, pod, container, latest, planned=planned, now=now):
            return sync_container(ctx, pod, sandbox, container, attempts, planned=planned, allowed=allowed)
        is_ready, is_started = probe(ctx, pod, container, latest, planned=planned, now=now)
        return _replace(
            base,
            container_id=latest.container_id,
            image_id=latest.image_id,
            running_since=latest.started_at,
            last_terminated=_terminated(previous) if previous else None,
            ready=is_ready,
            started=is_started,
        )

    if latest is not None and latest.state == Container.EXITED:
        ended = _terminated(latest)
        if not _should_restart(policy, ended.exit_code):
            return _replace(
                base, container_id=latest.container_id, image_id=latest.image_id, terminated=ended
            )
        ran = (latest.finished_at or now) - (latest.started_at or now)
        delay = restart_backoff(0 if ran >= BACKOFF_RESET_SECONDS else restarts, speed=ctx.info.speed)
        due = (latest.finished_at or now) + delay
        if now < due or not allowed:
            if allowed:
                ctx.after(due - now)
            else:
                ctx.after(5.0 / ctx.info.speed)
            message = f"back-off {_duration(delay * ctx.info.speed)} restarting failed container={name} pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata'].get('uid', '')})"
            ctx.events.warning(
                pod,
                "BackOff",
                f"Back-off restarting failed container {name} in pod {pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata'].get('uid', '')})",
                field_path=container_path(name),
            )
            return _replace(
                base,
                container_id=latest.container_id,
                image_id=latest.image_id,
                waiting_reason="CrashLoopBackOff",
                waiting_message=message,
                last_terminated=ended,
            )
        return start(
            ctx,
            pod,
            sandbox,
            container,
            attempt=latest.attempt + 1,
            planned=planned,
            base=_replace(base, restart_count=restarts + 1, last_terminated=ended),
        )

    if latest is not None:  # created but not started (a sync died between the two calls)
        ctx.runtime.start_container(latest, behaviour=planned, spec=container)
        ctx.events.normal(pod, "Started", f"Started container {name}", field_path=container_path(name))
        return _replace(
            base, container_id=latest.container_id, image_id=latest.image_id, running_since=latest.started_at
        )
    if not allowed:
        ctx.after(5.0 / ctx.info.speed)
        return _replace(base, waiting_reason="ContainerCreating")
    # A container that ran in an earlier boot of the machine (its status says so, the runtime
    # forgot it) starts again as a restart, as the kubelet counts from the pod's last status.
    prior = _reported(pod, name)
    if prior is not None and prior.get("containerID"):
        attempt = int(prior.get("restartCount") or 0) + 1
        return start(
            ctx,
            pod,
            sandbox,
            container,
            attempt=attempt,
            planned=planned,
            base=_replace(base, restart_count=attempt),
        )
    return start(ctx, pod, sandbox, container, attempt=0, planned=planned, base=base)


def _reported(pod: Obj, name: str) -> Obj | None:
    """Return the container's status as the API last had it, or None."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == name:
            return status
    return None


def start(
    ctx: PodContext,
    pod: Obj,
    sandbox: Sandbox,
    container: Mapping[str, Any],
    *,
    attempt: int,
    planned: Behaviour,
    base: ContainerView,
) -> ContainerView:
    """Pull the image if need be, then create and start the container (one attempt)."""
    name, image_name = container["name"], container.get("image", "")
    now = ctx.clock()
    path = container_path(name)
    policy = container.get("imagePullPolicy") or "IfNotPresent"
    image = ctx.runtime.image_status(image_name)
    waiting = base.last_terminated is None
    if image is None:
        if policy == "Never":
            message = f'Container image "{image_name}" is not present with pull policy of Never'
            ctx.events.warning(pod, "ErrImageNeverPull", message, field_path=path)
            return _replace(base, waiting_reason="ErrImageNeverPull", waiting_message=message)
        image = ctx.runtime.pull_image(image_name)
        ctx.events.normal(pod, "Pulling", f'Pulling image "{image_name}"', field_path=path)
    if image.pulled_at > now:
        ctx.after(image.pulled_at - now)
        return _replace(base, waiting_reason="ContainerCreating" if waiting else "PodInitializing")
    if image.pull_started_at >= sandbox.created_at - 0.001:
        took = image.pulled_at - image.pull_started_at
        waited = now - image.pull_started_at
        ctx.events.normal(
            pod,
            "Pulled",
            f'Successfully pulled image "{image_name}" in {_duration(took)} ({_duration(waited)} including waiting). '
            f"Image size: {image.size} bytes.",
            field_path=path,
        )
    else:
        ctx.events.normal(
            pod, "Pulled", f'Container image "{image_name}" already present on machine', field_path=path
        )
    created = ctx.runtime.create_container(
        sandbox=sandbox, spec=container, attempt=attempt, behaviour=planned
    )
    ctx.events.normal(pod, "Created", f"Created container: {name}", field_path=path)
    ctx.runtime.start_container(created, behaviour=planned, spec=container)
    ctx.events.normal(pod, "Started", f"Started container {name}", field_path=path)
    if created.exits_at is not None:
        ctx.after(created.exits_at - now)
    is_ready, is_started = probe(ctx, pod, container, created, planned=planned, now=now)
    return _replace(
        base,
        container_id=created.container_id,
        image_id=created.image_id,
        running_since=created.started_at,
        ready=is_ready,
        started=is_started,
    )


def failed_liveness(
    ctx: PodContext, pod: Obj, container: Mapping[str, Any], c: Container, *, planned: Behaviour, now: float
) -> bool:
    """Kill a container whose liveness probe has failed ``failureThreshold`` times in a row.

    Only a pod annotated ``kubeviz.io/fail-liveness`` fails it; the first failure comes at
    ``initialDelaySeconds``, then one every ``periodSeconds``.
    """
    liveness = container.get("livenessProbe")
    if not liveness or not planned.fails_liveness:
        return False
    delay = float(liveness.get("initialDelaySeconds") or 0)
    period = float(liveness.get("periodSeconds") or 10)
    threshold = int(liveness.get("failureThreshold") or 3)
    up = now - (c.started_at or now)
    dies_at = delay + period * (threshold - 1)
    if up < delay:
        ctx.after(delay - up)
        return False
    name = container["name"]
    ctx.events.warning(
        pod, "Unhealthy", f"Liveness probe failed: {probe_failure(liveness)}", field_path=container_path(name)
    )
    if up < dies_at:
        ctx.after(min(period, dies_at - up))
        return False
    ctx.events.normal(
        pod,
        "Killing",
        f"Container {name} failed liveness probe, will be restarted",
        field_path=container_path(name),
    )
    ctx.runtime.kill_container(c, code=137, reason="Error", message="failed liveness probe")
    return True


def probe(
    ctx: PodContext, pod: Obj, container: Mapping[str, Any], c: Container, *, planned: Behaviour, now: float
) -> tuple[bool, bool]:
    """Return (ready, started) for a running container from its probes, scheduling the next look."""
    started_at = c.started_at or now
    up = now - started_at
    startup = container.get("startupProbe")
    started = True
    if startup:
        delay = float(startup.get("initialDelaySeconds") or 0)
        started = up >= delay
        if not started:
            ctx.after(delay - up)
    readiness = container.get("readinessProbe")
    if not started:
        return False, False
    if readiness is None:
        return True, True
    delay = float(readiness.get("initialDelaySeconds") or 0)
    period = float(readiness.get("periodSeconds") or 10)
    if planned.fails_readiness:
        if up >= delay:
            ctx.events.warning(
                pod,
                "Unhealthy",
                f"Readiness probe failed: {probe_failure(readiness)}",
                field_path=container_path(container["name"]),
            )
            ctx.after(period - ((up - delay) % period))
        else:
            ctx.after(delay - up)
        return False, True
    if up < delay:
        ctx.after(delay - up)
        return False, True
    serving = SERVES.get(switches.component_of(pod) or "")
    if serving is not None and not serving(
        ctx.cluster, f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    ):
        ctx.after(min(period, 1.0))  # not serving yet: the probe fails until it does
        return False, True
    return True, True


#: Components whose readiness endpoint reports real state: coredns's ``ready`` plugin answers
#: 200 only once its kubernetes plugin has synced its watches.
SERVES: dict[str, Callable[[str, str], bool]] = {"coredns": dns_server.ready}


def probe_failure(spec: Mapping[str, Any]) -> str:
    """Word a failed probe as the kubelet's prober does for its kind."""
    if "httpGet" in spec:
        return "HTTP probe failed with statuscode: 503"
    if "tcpSocket" in spec:
        port = spec["tcpSocket"].get("port")
        return f"dial tcp: connect to port {port}: connection refused"
    if "grpc" in spec:
        port = spec["grpc"].get("port")
        return f'timeout: failed to connect service ":{port}" within 1s'
    return "command exited with code 1"


def _duration(seconds: float) -> str:
    """Format seconds as Go's ``time.Duration`` string, rounded the way the kubelet's events are."""
    if seconds < 1:
        return f"{max(seconds, 0.0) * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest}s"


def _replace(view: ContainerView, **changes: Any) -> ContainerView:
    return replace(view, **changes)


# --- terminating --------------------------------------------------------------------------------


def terminate(ctx: PodContext, pod: Obj, sandboxes: list[Sandbox]) -> None:
    """Stop the pod within its grace period, tear its sandboxes down, then delete it for good."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    grace = meta.get("deletionGracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    specs = {c["name"]: c for c in spec.get("containers") or []}
    now = ctx.clock()
    pending = False
    for sandbox in sandboxes:
        for c in ctx.runtime.list_containers(sandbox=sandbox):
            if c.state == Container.EXITED:
                continue
            if c.stop_requested_at is None:
                ctx.events.normal(
                    pod, "Killing", f"Stopping container {c.name}", field_path=container_path(c.name)
                )
                container = specs.get(c.name, {})
                sleeps = command_line(container).startswith("sleep")
                ctx.runtime.stop_container(c, timeout=float(grace), handles_sigterm=not sleeps)
            if c.state != Container.EXITED:
                pending = True
                if c.kill_at is not None:
                    ctx.after(c.kill_at - now)
    if pending:
        return
    for sandbox in sandboxes:
        ctx.runtime.remove_pod_sandbox(sandbox)
    try:
        ctx.client.delete(
            PODS,
            meta["name"],
            namespace=meta["namespace"],
            grace_period_seconds=0,
            preconditions=Preconditions(uid=meta.get("uid")),
        )
    except APIStatusError as exc:
        if not (exc.is_not_found() or exc.is_conflict()):
            raise


# --- status ---------------------------------------------------------------------------------------


def write_status(ctx: PodContext, pod: Obj, views: list[ContainerView], *, sandbox: Sandbox | None) -> None:
    """Patch ``pods/status`` when what the kubelet sees differs from what the API holds."""
    host_network = bool((pod.get("spec") or {}).get("hostNetwork"))
    pod_ip = ctx.node_ip if host_network and sandbox is not None else (sandbox.ip if sandbox else "")
    status = pod_status(
        pod,
        views,
        host_ip=ctx.node_ip,
        pod_ip=pod_ip,
        sandbox_ready=sandbox is not None and sandbox.state == Sandbox.READY,
        started_at=sandbox.created_at if sandbox else ctx.clock(),
        now=ctx.clock(),
    )
    if not status_changed(pod.get("status") or {}, status):
        return
    try:
        ctx.client.patch(
            PODS,
            pod["metadata"]["name"],
            {"status": status},
            namespace=pod["metadata"]["namespace"],
            subresource="status",
        )
    except APIStatusError as exc:
        if not (exc.is_not_found() or exc.is_conflict()):
            raise
