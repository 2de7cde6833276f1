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

Failures are Kubernetes ``Status`` objects, like everything else the server answers.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.http import HttpRequest, HttpResponse
from rest_framework.views import APIView

from kubeviz.apiserver import bootstrap
from kubeviz.cluster.topology import TopologySerializer, topology_of
from kubeviz.scheduler import results


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _status(
    code: int, reason: str, message: str, causes: list[dict[str, str]] | None = None, name: str = ""
) -> HttpResponse:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    details: dict[str, Any] = {"kind": "clusters"}
    if name:
        details["name"] = name
    if causes:
        details["causes"] = causes
    body["details"] = details
    return _json(body, code)


def describe(info: bootstrap.ClusterInfo) -> dict[str, Any]:
    """Return the explorer's JSON for one cluster."""
    return {
        "name": info.name,
        "uid": info.uid,
        "created": info.created,
        "url": f"/clusters/{info.name}/",
        "server": f"/k8s/{info.name}",
        "kubeconfig": f"/api/clusters/{info.name}/kubeconfig",
        "websocket": f"/ws/clusters/{info.name}/",
        "revision": info.revision,
        **info.topology,
    }


def _not_found(name: str) -> HttpResponse:
    return _status(404, "NotFound", f'cluster "{name}" not found', name=name)


class ClusterListAPI(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: HttpRequest) -> HttpResponse:
        return _json({"items": [describe(c) for c in bootstrap.list_clusters()]})

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
        try:
            info = bootstrap.create_cluster(name=data["name"], topology=topology_of(data))
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
            return _json(describe(bootstrap.get_cluster(name)))
        except bootstrap.NoSuchCluster:
            return _not_found(name)

    def delete(self, request: HttpRequest, name: str) -> HttpResponse:
        try:
            bootstrap.delete_cluster(name)
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
        server = request.build_absolute_uri(f"/k8s/{name}")
        text = yaml.safe_dump(kubeconfig_for(name=name, server=server), sort_keys=False)
        resp = HttpResponse(text, content_type="application/yaml")
        resp.headers["Content-Disposition"] = f'attachment; filename="kubeconfig-{name}.yaml"'
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
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f'no scheduling attempt recorded for pod "{namespace}/{pod}"',
                "reason": "NotFound",
                "details": {"name": pod, "kind": "pods"},
                "code": 404,
            }
            return _json(body, 404)
        return _json(found)
