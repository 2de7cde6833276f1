"""Server-side printing: ``meta.k8s.io/v1`` Table output for ``kubectl get``.

Mirrors kube-apiserver's table convertor with the column handlers of
``pkg/printers/internalversion/printers.go`` and the ages of
``k8s.io/apimachinery/pkg/util/duration.HumanDuration``.

Contract: ``to_table(objects, resource=..., list_meta=..., include_object=..., now=...)``
returns a Table whose ``columnDefinitions`` are the kind's columns (priority 1 columns are
the ``-o wide`` ones; like kube-apiserver every row always carries every cell, kubectl hides
the wide ones itself) and whose rows hold one cell per column plus the object as asked by
``includeObject`` (``None``: no object, ``Metadata``: a ``PartialObjectMetadata``,
``Object``: the object as given).  Column names are spelled as upstream ("Name",
"Nominated Node"); kubectl upper-cases them.  Objects are versioned JSON dicts; fields that
defaulting would fill are read with the same defaults.  Kinds without their own columns
get Name and Age.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubeviz.apiserver.errors import APIError, bad_request
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.selectors import selector_from_label_selector_object

Obj = Mapping[str, Any]
Cell = Callable[[Obj, datetime], Any]

NONE = "<none>"
UNKNOWN = "<unknown>"
_LIST_LIMIT = 3  # endpoints/ports shown before "+ N more..."
_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_LEGACY_NODE_ROLE_LABEL = "kubernetes.io/role"


# ----------------------------------------------------------------------------------------
# Ages
# ----------------------------------------------------------------------------------------


def human_duration(d: timedelta) -> str:
    """Render a duration with two significant units at most, as kubectl's AGE column.

    Up to 2s in the future reads as "0s" (clock skew), further as "<invalid>".
    """
    seconds = int(d.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{days // 365}y"


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """Parse an RFC 3339 ``Time``/``MicroTime`` string (aware, UTC if unzoned); None if unset."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def since(value: Any, now: datetime) -> str:
    """Render the age of a timestamp string against ``now``; ``<unknown>`` if unset."""
    moment = parse_time(value)
    if moment is None:
        return UNKNOWN
    return human_duration((now if now.tzinfo else now.replace(tzinfo=UTC)) - moment)


# ----------------------------------------------------------------------------------------
# Reading objects
# ----------------------------------------------------------------------------------------


def _at(obj: Any, path: str, default: Any = None) -> Any:
    """Read a dotted path, returning ``default`` where anything on the way is missing/null."""
    node = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return default
        node = node[part]
    return node


def _items(obj: Obj, path: str) -> list[Any]:
    return list(_at(obj, path, []))


def _condition_true(conditions: Iterable[Obj], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """Render a label map as sorted ``k=v`` pairs, ``<none>`` when empty."""
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels)) if labels else NONE


def format_label_selector(selector: Obj | None) -> str:
    """Render a structured selector in canonical string form, ``<none>`` when it selects all or nothing."""
    try:
        return str(selector_from_label_selector_object(selector)) or NONE
    except APIError:
        return "<error>"


def _deployment_selector(obj: Obj, now: datetime) -> str:
    try:
        return str(selector_from_label_selector_object(_at(obj, "spec.selector")))
    except APIError:
        return "<invalid>"


def _containers(path: str) -> tuple[Cell, Cell]:
    """Return the (names, images) cells of the containers listed at ``path``."""
    return (
        lambda obj, now: ",".join(c.get("name", "") for c in _items(obj, path)),
        lambda obj, now: ",".join(c.get("image", "") for c in _items(obj, path)),
    )


def _with_more(shown: list[str], total: int, *, empty: str) -> str:
    """Join the shown items, noting how many more there are (``a,b,c + 2 more...``)."""
    if total > len(shown):
        return f"{','.join(shown)} + {total - len(shown)} more..."
    return ",".join(shown) or empty


def _host_port(ip: str, port: Any) -> str:
    """Join an address and port, bracketing IPv6 addresses."""
    try:
        v6 = ipaddress.ip_address(ip).version == 6
    except ValueError:
        v6 = ":" in ip
    return f"[{ip}]:{port}" if v6 else f"{ip}:{port}"


# ----------------------------------------------------------------------------------------
# Columns
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One Table column: its definition plus the function computing its cell."""

    name: str
    type: str
    description: str
    cell: Cell
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        """Return the ``TableColumnDefinition``."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _text(name: str, path: str, description: str, *, default: str = "", priority: int = 0) -> Column:
    """Build a column showing the string at ``path``."""
    return Column(name, "string", description, lambda obj, now: str(_at(obj, path, default)), priority)


def _int(name: str, path: str, description: str, *, default: int = 0, priority: int = 0) -> Column:
    """Build a column showing the integer at ``path``."""
    return Column(name, "integer", description, lambda obj, now: int(_at(obj, path, default)), priority)


def _length(name: str, paths: Sequence[str], description: str) -> Column:
    """Build a column counting the entries of the maps/lists at ``paths``."""
    return Column(name, "integer", description, lambda obj, now: sum(len(_at(obj, p, ())) for p in paths))


def _ratio(name: str, have: str, want: str, description: str) -> Column:
    """Build a "have/want" column; ``want`` defaults to 1 as replica counts do."""
    return Column(name, "string", description, lambda obj, now: f"{_at(obj, have, 0)}/{_at(obj, want, 1)}")


NAME = Column(
    "Name",
    "string",
    "Name of the object, unique within its namespace.",
    lambda obj, now: _at(obj, "metadata.name", ""),
    format="name",
)
AGE = Column(
    "Age",
    "string",
    "Time since the object was created (metadata.creationTimestamp).",
    lambda obj, now: since(_at(obj, "metadata.creationTimestamp"), now),
)


def _wide_containers(path: str, *, selector: Cell | None = None) -> tuple[Column, ...]:
    """Return the wide Containers, Images [and Selector] columns of a workload template."""
    names, images = _containers(path)
    columns = (
        Column("Containers", "string", "Names of the containers in the pod template.", names, 1),
        Column("Images", "string", "Images of the containers in the pod template.", images, 1),
    )
    if selector is None:
        return columns
    return (
        *columns,
        Column("Selector", "string", "Label selector of the pods this object manages.", selector, 1),
    )


def _template_selector(obj: Obj, now: datetime) -> str:
    return format_label_selector(_at(obj, "spec.selector"))


# --- Pod ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodSummary:
    """What ``kubectl get pods`` shows about a pod's containers."""

    ready: int
    total: int
    reason: str
    restarts: int
    last_restart: datetime | None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    """Return the later of two optional times."""
    if a is None:
        return b
    return b if b is not None and b > a else a


def _terminated_reason(term: Obj, prefix: str = "") -> str:
    """Name a terminated state: its reason, else ``Signal:n``, else ``ExitCode:n``."""
    if term.get("reason"):
        return prefix + term["reason"]
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def pod_summary(pod: Obj) -> PodSummary:
    """Derive the READY, STATUS and RESTARTS facts of a pod as kubectl's pod printer does.

    STATUS starts at ``status.reason`` or the phase; a failing or pending init container
    turns it into ``Init:<reason>`` / ``Init:i/n``; otherwise the first app container that
    is waiting or terminated gives its reason (``CrashLoopBackOff``, ``Completed`` ...);
    a pod being deleted reads ``Terminating`` (``Unknown`` if its node was lost).
    Sidecars (init containers with ``restartPolicy: Always``) count as containers.
    """
    status = pod.get("status") or {}
    conditions = _items(pod, "status.conditions")
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"

    init_specs = _items(pod, "spec.initContainers")
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(_items(pod, "spec.containers")) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last: datetime | None = None
    sidecar_last: datetime | None = None

    initializing = False
    for i, cs in enumerate(_items(pod, "status.initContainerStatuses")):
        count = int(cs.get("restartCount") or 0)
        finished = parse_time(_at(cs, "lastState.terminated.finishedAt"))
        restarts += count
        last = _later(last, finished)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            sidecar_last = _later(sidecar_last, finished)
        term, waiting = _at(cs, "state.terminated"), _at(cs, "state.waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if term is not None:
            reason = _terminated_reason(term, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts, last = sidecar_restarts, sidecar_last
        running = False
        for cs in reversed(_items(pod, "status.containerStatuses")):
            restarts += int(cs.get("restartCount") or 0)
            last = _later(last, parse_time(_at(cs, "lastState.terminated.finishedAt")))
            term, waiting = _at(cs, "state.terminated"), _at(cs, "state.waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None:
                reason = _terminated_reason(term)
            elif cs.get("ready") and _at(cs, "state.running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if _at(pod, "metadata.deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return PodSummary(ready, total, reason, restarts, last)


def _pod_ready(pod: Obj, now: datetime) -> str:
    summary = pod_summary(pod)
    return f"{summary.ready}/{summary.total}"


def _pod_status(pod: Obj, now: datetime) -> str:
    return pod_summary(pod).reason


def _pod_restarts(pod: Obj, now: datetime) -> str:
    summary = pod_summary(pod)
    if summary.restarts and summary.last_restart is not None:
        return f"{summary.restarts} ({human_duration(now - summary.last_restart)} ago)"
    return str(summary.restarts)


def _pod_ip(pod: Obj, now: datetime) -> str:
    ips = _items(pod, "status.podIPs")
    return (ips[0].get("ip") if ips else None) or _at(pod, "status.podIP") or NONE


def _readiness_gates(pod: Obj, now: datetime) -> str:
    gates = _items(pod, "spec.readinessGates")
    if not gates:
        return NONE
    seen = {}
    for c in _items(pod, "status.conditions"):
        seen.setdefault(c.get("type"), c.get("status"))
    passed = sum(1 for g in gates if seen.get(g.get("conditionType")) == "True")
    return f"{passed}/{len(gates)}"


_POD_COLUMNS = (
    NAME,
    Column("Ready", "string", "Ready containers out of all containers.", _pod_ready),
    Column("Status", "string", "Summary of the pod's and its containers' state.", _pod_status),
    Column("Restarts", "string", "Container restarts, and how long ago the last one was.", _pod_restarts),
    AGE,
    Column("IP", "string", "The pod's (first) IP address.", _pod_ip, 1),
    _text("Node", "spec.nodeName", "Node the pod is bound to.", default=NONE, priority=1),
    _text(
        "Nominated Node",
        "status.nominatedNodeName",
        "Node nominated by preemption.",
        default=NONE,
        priority=1,
    ),
    Column("Readiness Gates", "string", "Readiness gates passed out of all gates.", _readiness_gates, 1),
)

_POD_SUCCEEDED = {
    "type": "Completed",
    "status": "True",
    "reason": "Succeeded",
    "message": "The pod has completed successfully.",
}
_POD_FAILED = {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}


def _pod_row_conditions(pod: Obj) -> list[dict[str, str]]:
    phase = _at(pod, "status.phase")
    return [_POD_SUCCEEDED] if phase == "Succeeded" else [_POD_FAILED] if phase == "Failed" else []


# --- Service ------------------------------------------------------------------------------


def _service_type(svc: Obj) -> str:
    return _at(svc, "spec.type", "ClusterIP")


def _cluster_ip(svc: Obj, now: datetime) -> str:
    ips = _items(svc, "spec.clusterIPs")
    return ips[0] if ips else _at(svc, "spec.clusterIP") or NONE


def _external_ip(svc: Obj, now: datetime) -> str:
    kind = _service_type(svc)
    external = _items(svc, "spec.externalIPs")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        ingress = _items(svc, "status.loadBalancer.ingress")
        balancers = sorted({i.get("ip") or i.get("hostname") or "" for i in ingress} - {""})
        return ",".join([*balancers, *external]) or "<pending>"
    if kind == "ExternalName":
        return _at(svc, "spec.externalName", "")
    return UNKNOWN


def _service_ports(svc: Obj, now: datetime) -> str:
    pieces = []
    for p in _items(svc, "spec.ports"):
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        pieces.append(f"{p.get('port', 0)}{node_port}/{p.get('protocol') or 'TCP'}")
    return ",".join(pieces) or NONE


_SERVICE_COLUMNS = (
    NAME,
    Column("Type", "string", "How the service is exposed.", lambda s, now: _service_type(s)),
    Column("Cluster-IP", "string", "The service's virtual IP inside the cluster.", _cluster_ip),
    Column("External-IP", "string", "Addresses reachable from outside the cluster.", _external_ip),
    Column("Port(s)", "string", "Service ports as port[:nodePort]/protocol.", _service_ports),
    AGE,
    Column(
        "Selector",
        "string",
        "Labels of the pods backing the service.",
        lambda s, now: format_labels(_at(s, "spec.selector")),
        1,
    ),
)


# --- Node ---------------------------------------------------------------------------------


def _node_status(node: Obj, now: datetime) -> str:
    ready = next((c for c in _items(node, "status.conditions") if c.get("type") == "Ready"), None)
    states = ["Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"]
    if _at(node, "spec.unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def node_roles(node: Obj) -> list[str]:
    """Return a node's roles from ``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role`` labels."""
    roles = set()
    for key, value in (_at(node, "metadata.labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX) and key[len(_NODE_ROLE_PREFIX) :]:
            roles.add(key[len(_NODE_ROLE_PREFIX) :])
        elif key == _LEGACY_NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_address(kind: str) -> Cell:
    return lambda node, now: next(
        (a.get("address", "") for a in _items(node, "status.addresses") if a.get("type") == kind), NONE
    )


def _node_info(name: str, key: str, description: str) -> Column:
    return Column(name, "string", description, lambda n, now: _at(n, f"status.nodeInfo.{key}") or UNKNOWN, 1)


_NODE_COLUMNS = (
    NAME,
    Column("Status", "string", "Readiness of the node, and whether scheduling is disabled.", _node_status),
    Column("Roles", "string", "Roles of the node.", lambda n, now: ",".join(node_roles(n)) or NONE),
    AGE,
    _text("Version", "status.nodeInfo.kubeletVersion", "Version of the node's kubelet."),
    Column("Internal-IP", "string", "The node's first internal address.", _node_address("InternalIP"), 1),
    Column("External-IP", "string", "The node's first external address.", _node_address("ExternalIP"), 1),
    _node_info("OS-Image", "osImage", "Operating system image of the node."),
    _node_info("Kernel-Version", "kernelVersion", "Kernel version of the node."),
    _node_info("Container-Runtime", "containerRuntimeVersion", "Container runtime name and version."),
)


# --- Workloads ----------------------------------------------------------------------------

_DEPLOYMENT_COLUMNS = (
    NAME,
    _ratio("Ready", "status.readyReplicas", "spec.replicas", "Ready replicas out of desired replicas."),
    _int("Up-to-date", "status.updatedReplicas", "Replicas running the latest pod template."),
    _int("Available", "status.availableReplicas", "Replicas available to users."),
    AGE,
    *_wide_containers("spec.template.spec.containers", selector=_deployment_selector),
)

_REPLICASET_COLUMNS = (
    NAME,
    _int("Desired", "spec.replicas", "Desired number of replicas.", default=1),
    _int("Current", "status.replicas", "Number of replicas that exist."),
    _int("Ready", "status.readyReplicas", "Number of ready replicas."),
    AGE,
    *_wide_containers("spec.template.spec.containers", selector=_template_selector),
)

_DAEMONSET_COLUMNS = (
    NAME,
    _int("Desired", "status.desiredNumberScheduled", "Nodes that should run the daemon pod."),
    _int("Current", "status.currentNumberScheduled", "Nodes running the daemon pod."),
    _int("Ready", "status.numberReady", "Nodes whose daemon pod is ready."),
    _int("Up-to-date", "status.updatedNumberScheduled", "Nodes running the latest daemon pod."),
    _int("Available", "status.numberAvailable", "Nodes whose daemon pod is available."),
    Column(
        "Node Selector",
        "string",
        "Labels a node needs to run the daemon pod.",
        lambda ds, now: format_labels(_at(ds, "spec.template.spec.nodeSelector")),
    ),
    AGE,
    *_wide_containers("spec.template.spec.containers", selector=_template_selector),
)

_STATEFULSET_COLUMNS = (
    NAME,
    _ratio("Ready", "status.readyReplicas", "spec.replicas", "Ready replicas out of desired replicas."),
    AGE,
    *_wide_containers("spec.template.spec.containers"),
)

# The first of these that holds is a job's STATUS: a true condition of that type, or for
# "Terminating" a deletionTimestamp.  None holding reads "Running".
_JOB_STATES = ("Complete", "Failed", "Terminating", "Suspended", "FailureTarget", "SuccessCriteriaMet")


def _job_status(job: Obj, now: datetime) -> str:
    conditions = _items(job, "status.conditions")
    for state in _JOB_STATES:
        deleting = state == "Terminating" and _at(job, "metadata.deletionTimestamp")
        if deleting or _condition_true(conditions, state):
            return state
    return "Running"


def _job_completions(job: Obj, now: datetime) -> str:
    succeeded = _at(job, "status.succeeded", 0)
    completions = _at(job, "spec.completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = _at(job, "spec.parallelism", 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: datetime) -> str:
    start = parse_time(_at(job, "status.startTime"))
    if start is None:
        return ""
    end = parse_time(_at(job, "status.completionTime")) or now
    return human_duration(end - start)


_JOB_COLUMNS = (
    NAME,
    Column("Status", "string", "Status of the job.", _job_status),
    Column("Completions", "string", "Succeeded pods out of required completions.", _job_completions),
    Column("Duration", "string", "Time the job took, or has been running.", _job_duration),
    AGE,
    *_wide_containers("spec.template.spec.containers", selector=_template_selector),
)


def _suspend(cj: Obj, now: datetime) -> str:
    value = _at(cj, "spec.suspend")
    return "<unset>" if value is None else str(bool(value))


def _last_schedule(cj: Obj, now: datetime) -> str:
    value = _at(cj, "status.lastScheduleTime")
    return NONE if value is None else since(value, now)


_CRONJOB_COLUMNS = (
    NAME,
    _text("Schedule", "spec.schedule", "Cron schedule of the jobs."),
    _text("Timezone", "spec.timeZone", "Time zone the schedule is read in.", default=NONE),
    Column("Suspend", "boolean", "Whether new runs are suspended.", _suspend),
    _length("Active", ["status.active"], "Number of running jobs."),
    Column("Last Schedule", "string", "Time since a job was last scheduled.", _last_schedule),
    AGE,
    *_wide_containers(
        "spec.jobTemplate.spec.template.spec.containers",
        selector=lambda cj, now: format_label_selector(_at(cj, "spec.jobTemplate.spec.selector")),
    ),
)


def _controller(obj: Obj, now: datetime) -> str:
    ref = next((r for r in _items(obj, "metadata.ownerReferences") if r.get("controller")), None)
    if ref is None:
        return NONE
    api_version = ref.get("apiVersion", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    kind = ref.get("kind", "")
    qualified = f"{kind}.{group}" if group else kind
    return f"{qualified.lower()}/{ref.get('name', '')}" if kind else ref.get("name", "")


_CONTROLLERREVISION_COLUMNS = (
    NAME,
    Column("Controller", "string", "Controller owning the revision.", _controller),
    _int("Revision", "revision", "Revision number of the state."),
    AGE,
)


# --- Config, identity, networking ---------------------------------------------------------

_NAMESPACE_COLUMNS = (NAME, _text("Status", "status.phase", "Phase of the namespace."), AGE)

_CONFIGMAP_COLUMNS = (NAME, _length("Data", ["data", "binaryData"], "Number of keys."), AGE)

_SECRET_COLUMNS = (
    NAME,
    _text("Type", "type", "Type of the secret's data.", default="Opaque"),
    _length("Data", ["data"], "Number of keys."),
    AGE,
)

_SERVICEACCOUNT_COLUMNS = (NAME, _length("Secrets", ["secrets"], "Number of secrets listed."), AGE)


def _endpoints(ep: Obj, now: datetime) -> str:
    subsets = _items(ep, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    total = 0
    for subset in subsets:
        ips = [a.get("ip", "") for a in _items(subset, "addresses")]
        ports = _items(subset, "ports")
        targets = [_host_port(ip, p.get("port", 0)) for p in ports for ip in ips] if ports else ips
        total += len(targets)
        shown.extend(targets[: _LIST_LIMIT - len(shown)])
    return _with_more(shown, total, empty="")


def _slice_ports(es: Obj, now: datetime) -> str:
    ports = _items(es, "ports")
    labels = [str(p["port"]) if p.get("port") is not None else p.get("name") or "*" for p in ports]
    return _with_more(labels[:_LIST_LIMIT], len(labels), empty="<unset>")


def _slice_endpoints(es: Obj, now: datetime) -> str:
    addresses = [a for e in _items(es, "endpoints") for a in e.get("addresses") or []]
    return _with_more(addresses[:_LIST_LIMIT], len(addresses), empty="<unset>")


_ENDPOINTS_COLUMNS = (NAME, Column("Endpoints", "string", "Ready endpoints as ip:port.", _endpoints), AGE)

_ENDPOINTSLICE_COLUMNS = (
    NAME,
    _text("AddressType", "addressType", "Address family of the endpoints."),
    Column("Ports", "string", "Ports of the endpoints.", _slice_ports),
    Column("Endpoints", "string", "Endpoint addresses.", _slice_endpoints),
    AGE,
)

_LEASE_COLUMNS = (NAME, _text("Holder", "spec.holderIdentity", "Identity of the lease holder."), AGE)


# --- Events -------------------------------------------------------------------------------


def _first_seen(ev: Obj, now: datetime) -> str:
    return since(ev.get("firstTimestamp") or ev.get("eventTime"), now)


def _last_seen(ev: Obj, now: datetime) -> str:
    if _at(ev, "series") is not None:
        return since(_at(ev, "series.lastObservedTime"), now)
    return since(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else _first_seen(ev, now)


def _event_count(ev: Obj, now: datetime) -> int:
    if _at(ev, "series") is not None:
        return int(_at(ev, "series.count", 0))
    return int(ev.get("count") or 1)


def _event_object(ev: Obj, now: datetime) -> str:
    kind = str(_at(ev, "involvedObject.kind", "")).lower()
    name = _at(ev, "involvedObject.name", "")
    return f"{kind}/{name}" if name else kind


def _event_source(ev: Obj, now: datetime) -> str:
    component = _at(ev, "source.component") or ev.get("reportingComponent") or ""
    instance = _at(ev, "source.host") or ev.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else component


_EVENT_COLUMNS = (
    Column("Last Seen", "string", "Time since the event was last observed.", _last_seen),
    _text("Type", "type", "Type of the event (Normal, Warning)."),
    _text("Reason", "reason", "Short machine-readable reason."),
    Column("Object", "string", "Object the event is about.", _event_object),
    _text("Subobject", "involvedObject.fieldPath", "Part of the object the event is about.", priority=1),
    Column("Source", "string", "Component that reported the event.", _event_source, 1),
    Column(
        "Message",
        "string",
        "Human-readable description.",
        lambda ev, now: str(ev.get("message") or "").strip(),
    ),
    Column("First Seen", "string", "Time since the event was first observed.", _first_seen, 1),
    Column("Count", "integer", "Times the event occurred.", _event_count, 1),
    Column("Name", "string", "Name of the event object.", NAME.cell, 1, "name"),
)

# events.k8s.io/v1 field -> core/v1 field, so both event APIs share the core columns.
_EVENTS_V1_AS_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}


def _event_v1_as_core(ev: Obj) -> Obj:
    """Rename an events.k8s.io/v1 Event's fields to their core/v1 names."""
    return {_EVENTS_V1_AS_CORE.get(k, k): v for k, v in ev.items()}


# ----------------------------------------------------------------------------------------
# The kind table
# ----------------------------------------------------------------------------------------

DEFAULT_COLUMNS = (NAME, AGE)

# (group, kind) -> columns, in upstream order.
COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "Pod"): _POD_COLUMNS,
    ("", "Service"): _SERVICE_COLUMNS,
    ("", "Node"): _NODE_COLUMNS,
    ("", "Namespace"): _NAMESPACE_COLUMNS,
    ("", "ConfigMap"): _CONFIGMAP_COLUMNS,
    ("", "Secret"): _SECRET_COLUMNS,
    ("", "ServiceAccount"): _SERVICEACCOUNT_COLUMNS,
    ("", "Endpoints"): _ENDPOINTS_COLUMNS,
    ("", "Event"): _EVENT_COLUMNS,
    ("events.k8s.io", "Event"): _EVENT_COLUMNS,
    ("coordination.k8s.io", "Lease"): _LEASE_COLUMNS,
    ("apps", "Deployment"): _DEPLOYMENT_COLUMNS,
    ("apps", "ReplicaSet"): _REPLICASET_COLUMNS,
    ("apps", "DaemonSet"): _DAEMONSET_COLUMNS,
    ("apps", "StatefulSet"): _STATEFULSET_COLUMNS,
    ("apps", "ControllerRevision"): _CONTROLLERREVISION_COLUMNS,
    ("batch", "Job"): _JOB_COLUMNS,
    ("batch", "CronJob"): _CRONJOB_COLUMNS,
    ("discovery.k8s.io", "EndpointSlice"): _ENDPOINTSLICE_COLUMNS,
}

# (group, kind) -> reshaping applied before the cells are computed.
_ADAPTERS: dict[tuple[str, str], Callable[[Obj], Obj]] = {
    ("events.k8s.io", "Event"): _event_v1_as_core,
}

# (group, kind) -> row conditions (``TableRowCondition``), e.g. completed pods.
_ROW_CONDITIONS: dict[tuple[str, str], Callable[[Obj], list[dict[str, str]]]] = {
    ("", "Pod"): _pod_row_conditions,
}

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def columns_for(resource: Resource) -> tuple[Column, ...]:
    """Return the columns printed for a resource's kind (Name and Age if it has none)."""
    return COLUMNS.get((resource.group, resource.kind), DEFAULT_COLUMNS)


def table_row(
    obj: Obj, *, resource: Resource, include_object: str = "Metadata", now: datetime
) -> dict[str, Any]:
    """Return one ``TableRow`` for an object."""
    key = (resource.group, resource.kind)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    view = _ADAPTERS.get(key, lambda o: o)(obj)
    row: dict[str, Any] = {"cells": [column.cell(view, now) for column in columns_for(resource)]}
    if conditions := _ROW_CONDITIONS.get(key, lambda o: [])(obj):
        row["conditions"] = conditions
    if include_object in ("Metadata", ""):
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
    elif include_object == "Object":
        row["object"] = obj
    return row


def to_table(
    objects: Sequence[Obj],
    *,
    resource: Resource,
    list_meta: Mapping[str, Any],
    include_object: str = "Metadata",
    now: datetime,
) -> dict[str, Any]:
    """Render objects of one resource as a ``meta.k8s.io/v1`` Table.

    ``include_object`` is the ``includeObject`` query value (``""`` means Metadata);
    anything else raises ``APIError`` 400.
    """
    if include_object not in (*INCLUDE_OBJECT, ""):
        raise bad_request(f'unrecognized includeObject value: "{include_object}"')
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta),
        "columnDefinitions": [c.definition() for c in columns_for(resource)],
        "rows": [table_row(o, resource=resource, include_object=include_object, now=now) for o in objects],
    }
