"""The explorer API: clusters as a person creates, lists, opens and removes them.

This is a contract the README documents and the browser relies on:

* ``GET /api/clusters`` → ``{"items": [cluster, ...]}``
* ``POST /api/clusters`` ``{"name", "masters", "workers", "cni", "proxyMode", "mastersSchedulable", "speed"}``
  → 201 with the cluster (``name``, ``url``, ``kubeconfig``, ``websocket`` paths, topology)
* ``GET`` / ``DELETE /api/clusters/<name>``
* ``GET /api/clusters/<name>/kubeconfig`` → a kubeconfig YAML for kubectl
* ``GET /api/clusters/<name>/requests?limit=N`` → the newest API requests, newest first: who
  (component, from the User-Agent), verb, resource, name, code, latency and written revision
* ``GET /api/clusters/<name>/scheduling/<namespace>/<pod>`` → kube-scheduler's latest attempt
  for the pod: per-node filter verdicts, per-plugin scores, the chosen node
* ``GET /api/clusters/<name>/machines`` → ``{"items": [{"name", "role", "running",
  "components": [{"name", "running", "enabled"}], ...}]}``; ``POST`` ``{"role": "worker"}`` adds one
* ``PATCH /api/clusters/<name>/machines/<machine>`` ``{"running": bool}`` powers it off or on;
  ``PATCH …/machines/<machine>/components/<component>`` ``{"running": bool}`` stops or starts one
* ``GET …/machines/<machine>/routes`` and ``…/proxy-rules``: the node's routes and kube-proxy rules
* ``GET /api/clusters/<name>/dns?name=<name>&from=<namespace>/<pod>``: coredns's answer
* ``GET /api/clusters/<name>/trace?from=<namespace>/<pod>&to=<host>:<port>``: a packet's hops

Failures are Kubernetes ``Status`` objects, like everything else the server answers.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.views import APIView

from kubeviz.apiserver import bootstrap
from kubeviz.client import internal, rest
from kubeviz.cluster import network, selectors, services
from kubeviz.cluster.topology import MachineSerializer, TopologySerializer, topology_of
from kubeviz.netd import routes as netd_routes
from kubeviz.proxy import sync as proxy_sync
from kubeviz.scheduler import results


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _status(
    code: int, reason: str, message: str, causes: list[dict[str, str]] | None = None, name: str = ""
) -> HttpResponse:
    return _json(
        rest.Status.failure(code, reason, message, causes=causes, kind="clusters", name=name).to_dict(), code
    )


def describe(info: bootstrap.ClusterInfo, request: HttpRequest | None = None) -> dict[str, Any]:
    """Return the explorer's JSON for one cluster.

    Opened through a live link, the cluster is named by the link's token everywhere, and
    ``mode`` says what the link may do (``view`` or ``edit``); otherwise ``mode`` is ``owner``.
    """
    link = getattr(request, "kubeviz_link", None)
    name = link.token if link is not None else info.name
    return {
        **info.topology,
        "name": name,
        "uid": info.uid,
        "created": info.created,
        "url": f"/clusters/{name}/",
        "server": f"/k8s/{name}",
        "kubeconfig": f"/api/clusters/{name}/kubeconfig",
        "websocket": f"/ws/clusters/{name}/",
        "revision": info.revision,
        "listed": info.topology.get("listed", True),
        "mode": link.mode if link is not None else "owner",
    }


def _not_found(name: str) -> HttpResponse:
    return _status(404, "NotFound", f'cluster "{name}" not found', name=name)


class ClusterListAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest) -> HttpResponse:
        everything = internal.is_internal(request.headers.get("Authorization", ""))
        clusters = [c for c in bootstrap.list_clusters() if everything or c.topology.get("listed", True)]
        return _json({"items": [describe(c) for c in clusters]})

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            raw = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _status(400, "BadRequest", f"request body is not valid JSON: {exc}")
        if not isinstance(raw, dict):
            return _status(400, "BadRequest", "request body must be a JSON object")
        ser = TopologySerializer(data=raw)
        if not ser.is_valid():
            causes = [
                {"reason": "FieldValueInvalid", "field": f, "message": str(m)}
                for f, msgs in ser.errors.items()
                for m in msgs
            ]
            summary = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
            return _status(
                422, "Invalid", f"cluster is invalid: {summary}", causes, name=str(raw.get("name", ""))
            )
        data = ser.validated_data
        running = len(bootstrap.list_clusters())
        if running >= settings.KUBEVIZ_MAX_CLUSTERS:
            resp = _status(
                429, "TooManyRequests",
                f"kubeviz is already running {running} clusters, the most it may run at once "
                f"({settings.KUBEVIZ_MAX_CLUSTERS}). Delete a cluster you no longer need, or try again "
                f"later: clusters launched from links are removed after {settings.KUBEVIZ_IDLE_MINUTES:g} "
                "minutes without use. An operator can raise the limit with KUBEVIZ_MAX_CLUSTERS.",
                name=data["name"],
            )  # fmt: skip
            resp.headers["Retry-After"] = "60"
            return resp
        try:
            info = services.cluster_create(name=data["name"], topology=topology_of(data))
        except bootstrap.ClusterExists:
            return _status(
                409, "AlreadyExists", f'cluster "{data["name"]}" already exists', name=data["name"]
            )
        return _json(describe(info), 201)


class ClusterDetailAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            return _json(describe(bootstrap.get_cluster(name), request))
        except bootstrap.NoSuchCluster:
            return _not_found(name)

    def delete(self, request: HttpRequest, name: str) -> HttpResponse:
        if getattr(request, "kubeviz_link", None) is not None:
            return _status(403, "Forbidden", "a live link cannot delete the cluster it opens", name=name)
        try:
            services.cluster_delete(name=name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        return _json(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "kind": "clusters"},
            }
        )


def kubeconfig_for(*, name: str, server: str) -> dict[str, Any]:
    """Return a kubeconfig that points kubectl at one cluster's apiserver."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": f"{name}-admin", "user": {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": f"{name}-admin", "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }


class KubeconfigAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        link = getattr(request, "kubeviz_link", None)
        shown = link.token if link is not None else name
        server = request.build_absolute_uri(f"/k8s/{shown}")
        text = yaml.safe_dump(
            kubeconfig_for(name=shown if link is None else f"kubeviz-{link.mode}", server=server),
            sort_keys=False,
        )
        resp = HttpResponse(text, content_type="application/yaml")
        resp.headers["Content-Disposition"] = (
            f'attachment; filename="kubeconfig-{shown if link is None else "kubeviz"}.yaml"'
        )
        return resp


class RequestsAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        raw = request.GET.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            return _status(
                400,
                "BadRequest",
                f'limit: Invalid value: "{raw}": must be a whole number from 1 to 10000',
                [
                    {
                        "reason": "FieldValueInvalid",
                        "field": "limit",
                        "message": "must be a whole number from 1 to 10000",
                    }
                ],
            )
        try:
            items = bootstrap.recent_requests(name, count=int(raw))
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        return _json({"items": items})


class ControllersAPI(APIView):
    """``GET /api/clusters/<name>/controllers``: each control loop's work in this cluster now.

    For every kube-controller-manager controller: the keys waiting in its work queue and being
    reconciled, and its last reconcile here (key, result, when, how long).  For kube-scheduler:
    its queue's active, backoff and unschedulable pods, and the pods in flight.
    """

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        from kubeviz.controllers.base import queue_for
        from kubeviz.controllers.registry import CONTROLLERS
        from kubeviz.scheduler.queue import SchedulingQueue

        try:
            info = bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        items = []
        for controller in sorted(CONTROLLERS):
            queue = queue_for(controller)
            waiting, busy = queue.depth_of(f"{name}|")
            items.append(
                {
                    "name": controller,
                    "component": "kube-controller-manager",
                    "queue": queue.name,
                    "depth": waiting,
                    "processing": busy,
                    "lastReconcile": queue.last_reconcile(name),
                }
            )
        sched = SchedulingQueue(name, speed=float(info.topology.get("speed", 1) or 1))
        scheduler = {"component": "kube-scheduler", **sched.lengths(), "inFlight": len(sched.in_flight())}
        return _json({"items": items, "scheduler": scheduler})


class SchedulingAPI(APIView):
    """``GET /api/clusters/<name>/scheduling/<namespace>/<pod>``: the pod's latest scheduling attempt.

    The filter verdicts that failed (node → plugin → code and reasons), per-plugin scores of
    the best feasible nodes with their totals, the chosen node, and the message the event
    carried.  404 until kube-scheduler has tried the pod.
    """

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str, namespace: str, pod: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        found = results.latest(name, namespace, pod)
        if found is None:
            message = f'no scheduling attempt recorded for pod "{namespace}/{pod}"'
            return _json(rest.Status.failure(404, "NotFound", message, kind="pods", name=pod).to_dict(), 404)
        return _json(found)


def _invalid(kind: str, name: str, errors: dict[str, Any]) -> HttpResponse:
    causes = [
        {"reason": "FieldValueInvalid", "field": f, "message": str(m)}
        for f, msgs in errors.items()
        for m in msgs
    ]
    summary = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
    body = json.loads(_status(422, "Invalid", f"{kind} is invalid: {summary}", causes, name=name).content)
    body["details"]["kind"] = kind
    return _json(body, 422)


def _body(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    try:
        raw = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _status(400, "BadRequest", f"request body is not valid JSON: {exc}")
    if not isinstance(raw, dict):
        return _status(400, "BadRequest", "request body must be a JSON object")
    return raw


def _running(request: HttpRequest, kind: str, name: str) -> bool | HttpResponse:
    raw = _body(request)
    if isinstance(raw, HttpResponse):
        return raw
    unknown = sorted(set(raw) - {"running"})
    if unknown:
        return _invalid(kind, name, {f: ["unknown field: only running can be changed"] for f in unknown})
    if not isinstance(raw.get("running"), bool):
        return _invalid(kind, name, {"running": ["must be true or false"]})
    return bool(raw["running"])


def _machine_not_found(name: str) -> HttpResponse:
    body = json.loads(_status(404, "NotFound", f'machine "{name}" not found', name=name).content)
    body["details"]["kind"] = "machines"
    return _json(body, 404)


class MachineListAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        return _json({"items": selectors.machines(name)})

    def post(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            info = bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        raw = _body(request)
        if isinstance(raw, HttpResponse):
            return raw
        ser = MachineSerializer(data=raw, context={"cluster": name})
        if not ser.is_valid():
            return _invalid("machines", "", ser.errors)
        data = dict(ser.validated_data)
        role = data.pop("role")
        m = services.machine_create(
            cluster=name,
            cluster_uid=info.uid,
            role=role,
            cni=info.topology.get("cni", "flannel"),
            resources=data,
        )
        found = next(x for x in selectors.machines(name) if x["name"] == m.name)
        return _json(found, 201)


class MachineDetailAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str, machine: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        found = next((x for x in selectors.machines(name) if x["name"] == machine), None)
        return _machine_not_found(machine) if found is None else _json(found)

    def patch(self, request: HttpRequest, name: str, machine: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        running = _running(request, "machines", machine)
        if isinstance(running, HttpResponse):
            return running
        try:
            services.machine_set_running(cluster=name, name=machine, running=running)
        except services.NoSuchMachine:
            return _machine_not_found(machine)
        return self.get(request, name, machine)


class ComponentAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def patch(self, request: HttpRequest, name: str, machine: str, component: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        running = _running(request, "components", component)
        if isinstance(running, HttpResponse):
            return running
        try:
            services.component_set_running(
                cluster=name, machine=machine, component=component, running=running
            )
        except services.NoSuchMachine:
            return _machine_not_found(f"{machine}/{component}")
        return MachineDetailAPI().get(request, name, machine)


class RoutesAPI(APIView):
    """``GET …/machines/<machine>/routes``: the routes the node's network daemon programmed."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str, machine: str) -> HttpResponse:
        try:
            info = bootstrap.get_cluster(name)
            services.machine_get(name, machine)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        except services.NoSuchMachine:
            return _machine_not_found(machine)
        found = netd_routes.routes_for(name, machine)
        cni = info.topology.get("cni", "flannel")
        body: dict[str, Any] = {"machine": machine, "cni": cni, "daemon": netd_routes.DAEMONS.get(cni, "")}
        if found is None:
            body.update({"synced": False, "routes": [], "devices": []})
        else:
            body.update(
                {
                    "synced": True,
                    "routes": found.routes,
                    "devices": found.devices,
                    "encapsulation": found.encapsulation,
                    "revision": found.revision,
                    "syncedAt": found.synced_at.isoformat() if found.synced_at else None,
                    "text": "".join(f"{r['text']}\n" for r in found.routes),
                }
            )
        return _json(body)


class ProxyRulesAPI(APIView):
    """``GET …/machines/<machine>/proxy-rules``: kube-proxy's rules on the node and their revision."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str, machine: str) -> HttpResponse:
        try:
            info = bootstrap.get_cluster(name)
            services.machine_get(name, machine)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        except services.NoSuchMachine:
            return _machine_not_found(machine)
        found = proxy_sync.rules_for(name, machine)
        body: dict[str, Any] = {"machine": machine, "mode": info.topology.get("proxyMode", "iptables")}
        if found is None:
            body.update({"synced": False, "text": "", "services": []})
        else:
            body.update(
                {
                    "synced": True,
                    "mode": found.mode,
                    "text": found.text,
                    "services": found.services,
                    "revision": found.revision,
                    "syncedAt": found.synced_at.isoformat() if found.synced_at else None,
                    "syncs": found.sync_count,
                }
            )
        return _json(body)


def _network_error(exc: network.TraceError) -> HttpResponse:
    reason = {404: "NotFound", 409: "Conflict", 400: "BadRequest"}.get(exc.code, "Conflict")
    body = json.loads(_status(exc.code, reason, exc.message).content)
    body["details"] = {
        "kind": "trace",
        "name": exc.hop,
        "causes": [{"reason": exc.hop, "message": exc.message}],
    }
    body["hops"] = exc.hops
    return _json(body, exc.code)


def _bad_query(field: str, message: str) -> HttpResponse:
    return _status(
        400,
        "BadRequest",
        f"{field}: {message}",
        [{"reason": "FieldValueInvalid", "field": field, "message": message}],
    )


def _pod_ref(raw: str) -> bool:
    namespace, sep, pod = raw.partition("/")
    return bool(sep and namespace and pod and "/" not in pod)


class DNSAPI(APIView):
    """``GET /api/clusters/<name>/dns?name=<name>&from=<namespace>/<pod>[&type=A|SRV|PTR]``."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        query, source = request.GET.get("name", ""), request.GET.get("from", "")
        qtype = request.GET.get("type", "A").upper()
        if not query or len(query) > 253:
            return _bad_query("name", "a DNS name of 1 to 253 characters is required")
        if not _pod_ref(source):
            return _bad_query("from", "the asking pod as <namespace>/<pod> is required")
        if qtype not in ("A", "SRV", "PTR"):
            return _bad_query(
                "type", "must be A, SRV or PTR (AAAA is not simulated: the cluster is IPv4 only)"
            )
        try:
            return _json(
                network.dns(name, name=query, source=source, qtype=qtype, seed=request.GET.get("seed", ""))
            )
        except network.TraceError as exc:
            return _network_error(exc)


class TraceAPI(APIView):
    """``GET /api/clusters/<name>/trace?from=<namespace>/<pod>&to=<host>:<port>[&protocol=TCP|UDP]``."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            bootstrap.get_cluster(name)
        except bootstrap.NoSuchCluster:
            return _not_found(name)
        source, target = request.GET.get("from", ""), request.GET.get("to", "")
        protocol = request.GET.get("protocol", "TCP").upper()
        if not _pod_ref(source):
            return _bad_query("from", "the sending pod as <namespace>/<pod> is required")
        host, sep, port = target.rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            return _bad_query("to", "a destination as <host>:<port> with a port from 1 to 65535 is required")
        if protocol not in ("TCP", "UDP", "SCTP"):
            return _bad_query("protocol", "must be TCP, UDP or SCTP")
        try:
            found = network.trace(
                name,
                source=source,
                host=host,
                port=int(port),
                protocol=protocol,
                seed=request.GET.get("seed", ""),
            )
        except network.TraceError as exc:
            return _network_error(exc)
        return _json(found)
