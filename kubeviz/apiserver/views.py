"""HTTP entry points of kube-apiserver, one DRF view for every path under a cluster prefix.

The view is thin: it resolves the cluster and the request info, decodes the body, calls
the verb in ``rest`` (or ``watching``, ``discovery``, ``openapi``) and encodes the answer.
Every failure leaves as a ``Status`` with ``Content-Type: application/json`` — DRF's
default negotiation would echo the client's Accept parameters into the Content-Type,
which makes client-go mistake legacy discovery for aggregated discovery.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from kubeviz.apiserver import codec, discovery, errors, openapi, registry, rest, storage, trace, watching
from kubeviz.apiserver.errors import APIError
from kubeviz.apiserver.requestinfo import RequestInfo, parse
from kubeviz.apiserver.tables import to_table
from kubeviz.store.keys import ClusterNotFound

log = logging.getLogger(__name__)

JSON = "application/json"


class KubernetesJSONRenderer(BaseRenderer):
    media_type = JSON
    format = "json"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return codec.encode(data)


class PlainJSONNegotiation(BaseContentNegotiation):
    """Always answer with our JSON renderer; what we serve is decided by the view."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], JSON


def json_response(
    body: Any, status: int = 200, *, content_type: str = JSON, warnings: list[str] | None = None
) -> HttpResponse:
    resp = HttpResponse(codec.encode(body), status=status, content_type=content_type)
    for w in warnings or []:
        resp.headers.setdefault("Warning", "")
        value = '299 - "' + w.replace('"', '\\"') + '"'
        resp.headers["Warning"] = (
            value if not resp.headers["Warning"] else resp.headers["Warning"] + ", " + value
        )
    return resp


def status_response(err: APIError) -> HttpResponse:
    resp = json_response(err.status(), err.code)
    if err.retry_after is not None:
        resp.headers["Retry-After"] = str(err.retry_after)
    return resp


def _accept_table(accept: str) -> bool:
    return any(
        "as=table" in part.replace(" ", "").lower() and "g=meta.k8s.io" in part.lower()
        for part in accept.split(",")
    )


def _accept_partial(accept: str) -> str | None:
    for part in accept.split(","):
        p = part.replace(" ", "")
        if "g=meta.k8s.io" in p and "as=PartialObjectMetadataList" in p:
            return "PartialObjectMetadataList"
        if "g=meta.k8s.io" in p and "as=PartialObjectMetadata" in p:
            return "PartialObjectMetadata"
    return None


def _check_accept(accept: str) -> None:
    """Refuse clients that accept nothing we can produce (e.g. only protobuf)."""
    if not accept:
        return
    types = [p.split(";", 1)[0].strip().lower() for p in accept.split(",")]
    if any(t in ("application/json", "*/*", "application/*", "", "application/yaml") for t in types):
        return
    raise errors.not_acceptable(
        f"only the following media types are accepted: application/json (asked for {accept})"
    )


def _partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


class KubernetesAPIView(APIView):
    """Every request under ``/k8s/<cluster>/``."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    parser_classes: list[Any] = []
    renderer_classes = [KubernetesJSONRenderer]
    content_negotiation_class = PlainJSONNegotiation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        # DRF's own dispatch adds negotiation and parsing we do not use on this hot path.
        started = time.perf_counter()
        cluster_name, path = kwargs["cluster"], kwargs.get("path", "")
        info = parse(
            path, request.method or "GET", watch_param=request.GET.get("watch", "").lower() in ("true", "1")
        )
        call: rest.Call | None = None
        cluster = None
        try:
            for attempt in (1, 2):
                try:
                    cluster = storage.cluster(cluster_name)
                    if not info.is_resource:
                        response = self.non_resource(request, cluster_name, info)
                    else:
                        call = self.make_call(request, cluster, info)
                        response = self.serve(request, call)
                    break
                except ClusterNotFound as exc:
                    # A remembered cluster may have been deleted (and perhaps created again):
                    # nothing was written, so forget it and try once more.
                    storage.forget_cluster(cluster_name)
                    if attempt == 2:
                        raise errors.APIError(404, "NotFound", f'cluster "{cluster_name}" not found') from exc
        except APIError as err:
            response = status_response(err)
        except Exception as exc:  # a bug: still answer with a Status, and say so in the log
            log.exception("unhandled error serving %s %s", request.method, request.path)
            response = status_response(
                errors.internal(f"Internal error occurred: {type(exc).__name__}: {exc}")
            )
        if cluster is not None and info.is_resource:
            trace.record(
                cluster.pk,
                trace.Trace(
                    component=trace.component_of(request.headers.get("User-Agent", "")),
                    user_agent=request.headers.get("User-Agent", "")[:200],
                    verb=info.verb,
                    resource=info.resource,
                    subresource=info.subresource,
                    namespace=info.namespace,
                    name=info.name or (call.created if call else ""),
                    code=response.status_code,
                    latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    revision=call.revision if call else None,
                    at=time.time(),
                ),
            )
        return response

    # --- non-resource paths -------------------------------------------------------------

    def non_resource(self, request: HttpRequest, cluster_name: str, info: RequestInfo) -> HttpResponse:
        path = info.path.rstrip("/") or "/"
        if request.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed(
                f"the server does not allow this method on the requested resource ({path})"
            )
        prefix = f"/k8s/{cluster_name}"
        if path == "/version":
            return json_response(discovery.version())
        if path in ("/healthz", "/livez", "/readyz"):
            return HttpResponse(b"ok", content_type="text/plain")
        if path in ("/api", "/apis"):
            if discovery.wants_aggregated(request.headers.get("Accept", "")):
                body = discovery.aggregated(core=path == "/api")
                return json_response(body, content_type=discovery.AGGREGATED_CONTENT_TYPE)
            if path == "/api":
                return json_response(discovery.api_versions(request.get_host()))
            return json_response(discovery.api_group_list())
        if path == "/openapi/v2":
            return json_response(openapi.openapi_v2_document())
        if path == "/openapi/v3":
            return json_response(openapi.openapi_v3_index(prefix=prefix))
        parts = path.strip("/").split("/")
        if parts[:2] == ["openapi", "v3"]:
            rest_path = parts[2:]
            doc = None
            if rest_path[:1] == ["api"] and len(rest_path) == 2:
                doc = openapi.openapi_v3_document("", rest_path[1])
            elif rest_path[:1] == ["apis"] and len(rest_path) == 3:
                doc = openapi.openapi_v3_document(rest_path[1], rest_path[2])
            if doc is not None:
                resp = json_response(doc)
                resp.headers["Cache-Control"] = (
                    "public, immutable" if request.GET.get("hash") else "no-cache, private"
                )
                return resp
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.api_resource_list("", parts[1])
            if doc is not None:
                return json_response(doc)
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(parts[1])
            if doc is not None:
                return json_response(doc)
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.api_resource_list(parts[1], parts[2])
            if doc is not None:
                return json_response(doc)
        raise errors.APIError(404, "NotFound", "the server could not find the requested resource")

    # --- resources ----------------------------------------------------------------------

    def make_call(self, request: HttpRequest, cluster: Any, info: RequestInfo) -> rest.Call:
        res = registry.lookup(info.group, info.version, info.resource)
        if res is None or (info.namespace and not res.namespaced and info.resource != "namespaces"):
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        if info.subresource and info.subresource not in res.subresources:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        if res.namespaced and not info.namespace and info.verb not in ("list", "watch"):
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        body = None
        content_type = request.headers.get("Content-Type", "")
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = self.read_body(request, content_type)
        return rest.Call(
            cluster=cluster,
            info=info,
            resource=res,
            params=request.GET,
            user_agent=request.headers.get("User-Agent", ""),
            body=body,
            content_type=content_type,
        )

    def read_body(self, request: HttpRequest, content_type: str) -> Any:
        limit = settings.KUBEVIZ_MAX_REQUEST_BYTES
        length = request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise errors.too_large()
        raw = request.body
        if len(raw) > limit:
            raise errors.too_large()
        if not raw.strip():
            if request.method == "DELETE":
                return None
            raise errors.bad_request("the body of the request is empty")
        return codec.decode(raw, content_type)

    def serve(self, request: HttpRequest, call: rest.Call) -> HttpResponse:
        info = call.info
        accept = request.headers.get("Accept", "")
        _check_accept(accept)
        table = _accept_table(accept)
        include = call.param("includeObject") or "Metadata"
        if info.verb == "watch":
            wp = watching.plan(call, table=include if table else None)
            resp = StreamingHttpResponse(watching.events(wp), content_type=JSON)
            resp.headers["Cache-Control"] = "no-cache, private"
            resp.headers["X-Accel-Buffering"] = "no"
            return resp
        if info.subresource == "log":
            if info.verb != "get":
                raise errors.method_not_allowed("pods/log only supports GET")
            return HttpResponse(rest.pod_log(call).encode(), content_type="text/plain")
        if info.subresource == "binding":
            if info.verb != "create":
                raise errors.method_not_allowed("pods/binding only supports POST")
            code, body = rest.bind(call)
            return json_response(body, code)
        handler = {
            "get": rest.get,
            "list": rest.list_objects,
            "create": rest.create,
            "update": rest.update,
            "patch": rest.patch,
            "delete": rest.delete,
            "deletecollection": rest.delete_collection,
        }.get(info.verb)
        if handler is None or (info.verb == "create" and info.subresource):
            raise errors.method_not_allowed(
                f"the server does not allow this method on the requested resource ({request.method})"
            )
        if info.subresource in ("status", "scale") and info.verb not in ("get", "update", "patch"):
            raise errors.method_not_allowed(
                f"{info.resource}/{info.subresource} does not support {info.verb}"
            )
        code, body = handler(call)
        if table and body.get("kind") != "Status" and info.subresource != "scale":
            items = body["items"] if info.verb in ("list", "deletecollection") else [body]
            list_meta = (
                body.get("metadata", {})
                if info.verb == "list"
                else {"resourceVersion": body["metadata"].get("resourceVersion", "")}
            )
            body = to_table(
                items,
                resource=call.resource,
                list_meta=list_meta,
                include_object=include,
                now=datetime.now(UTC),
            )
        else:
            partial = _accept_partial(accept)
            if partial == "PartialObjectMetadataList" and info.verb == "list":
                body = {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": body["metadata"],
                    "items": [_partial(o) for o in body["items"]],
                }
            elif partial == "PartialObjectMetadata" and info.verb != "list" and body.get("kind") != "Status":
                body = _partial(body)
        return json_response(body, code, warnings=call.warnings)


_kubernetes_view = KubernetesAPIView.as_view()


def _serve_in_pool(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    # Pool threads live across requests and keep their database connection; drop it here
    # if it broke or grew too old, as Django does at the start of a request.
    close_old_connections()
    return _kubernetes_view(request, **kwargs)


async def api(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Serve an apiserver request on a pooled worker thread.

    Under ASGI, Django runs every sync view in a new thread of its own, and each new thread
    opens a new database connection: that cost more than the request itself.  The
    apiserver's view runs instead on the event loop's thread pool, whose threads and
    connections are reused; writers still queue on the database's own lock.
    """
    return await sync_to_async(_serve_in_pool, thread_sensitive=False)(request, **kwargs)
