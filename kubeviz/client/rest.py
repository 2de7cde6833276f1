"""REST access to the apiserver: one ``Client`` per component identity.

Mirrors client-go's ``rest`` package (``RESTClient``, ``Request``, request retries) and the
error helpers of ``k8s.io/apimachinery/pkg/api/errors``, for the dynamic (unstructured)
client shape: objects are plain ``dict`` values, resources are named by group, version and
plural, as ``dynamic.Interface`` names them.

Contract:

* Identity.  Every request carries ``User-Agent: <component>/v1.36.0 (linux/amd64)
  kubeviz[/<name>]``.  The apiserver records the first token as the component that made the
  request, so that token must be the component (``kube-scheduler``), never the controller.
* Errors.  Any answer outside 2xx raises ``APIStatusError`` carrying the Kubernetes
  ``Status`` (code, reason, message, details).  A body that is not a Status (a proxy's HTML
  page, say) is turned into one from the HTTP code, as client-go does.  A request that never
  got an answer raises ``ConnectionFailed``.  Both are ``ClientError``.
* Retries.  429 and 500/502/503/504 answers are retried for every verb: kubeviz's apiserver
  writes nothing when it fails, and a repeated create that did land comes back as
  AlreadyExists, which callers already handle.  A connection that could not be opened is
  retried for every verb too (the request never left); a connection lost mid-request is
  retried only for reads, because a write may or may not have happened.  The delay is the
  ``Retry-After`` seconds when the server sent them, else exponential backoff (``Backoff``).
  Other 4xx answers are never retried.
* Time.  The client never sleeps on its own: it calls the ``sleep`` it was given
  (``time.sleep`` by default), so tests can assert the backoff without waiting.

Simplified: JSON only (no protobuf), no rate limiter (client-go's client-side QPS/burst), no
discovery; the built-in resources are the table at the bottom of this module.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import orjson

from kubeviz.client.labels import Selector

log = logging.getLogger(__name__)

Obj = dict[str, Any]

KUBERNETES_VERSION = "v1.36.0"
PLATFORM = "linux/amd64"

RETRYABLE_CODES = frozenset({429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD"})

# Reasons client-go gives an error answer whose body is not a Status
# (``apierrors.NewGenericServerResponse``).
_REASON_FOR_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


# --- resources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A kind of object the apiserver serves, named the way its URLs name it."""

    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str = ""

    @property
    def api_version(self) -> str:
        """Return the ``apiVersion`` objects of this resource carry (``apps/v1``, ``v1``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
        """Return the URL path of a collection, an object or one of its subresources."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace and not self.namespaced:
            raise ValueError(f"{self.plural} is cluster-scoped; no namespace may be given")
        parts = [root]
        if namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        elif subresource:
            raise ValueError("a subresource needs an object name")
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


# --- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """A ``meta.k8s.io/v1`` Status: why the apiserver refused a request."""

    code: int
    reason: str
    message: str
    details: Obj = field(default_factory=dict)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any], *, code: int | None = None) -> Status:
        """Build a Status from its JSON form; ``code`` fills in a missing code."""
        return cls(
            code=int(body.get("code") or code or 0),
            reason=str(body.get("reason") or ""),
            message=str(body.get("message") or ""),
            details=dict(body.get("details") or {}),
        )

    @classmethod
    def failure(
        cls,
        code: int,
        reason: str,
        message: str,
        *,
        causes: list[dict[str, str]] | None = None,
        kind: str = "",
        name: str = "",
    ) -> Status:
        """A refusal of our own, in the apiserver's shape (details: kind, name, causes)."""
        details: Obj = {}
        if kind:
            details["kind"] = kind
        if name:
            details["name"] = name
        if causes:
            details["causes"] = causes
        return cls(code=code, reason=reason, message=message, details=details)

    def to_dict(self) -> Obj:
        """The JSON form, as an apiserver sends it."""
        return {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code, "details": dict(self.details),
        }  # fmt: skip

    @classmethod
    def from_response(cls, resp: httpx.Response) -> Status:
        """Read the Status an error answer carries, or make one from its HTTP code."""
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and body.get("kind") == "Status":
            return cls.from_dict(body, code=resp.status_code)
        code = resp.status_code
        text = resp.text.strip()[:200] if resp.content else ""
        message = f"the server responded with the status code {code} but did not return more information"
        if text:
            message = f"{message} ({text})"
        return cls(code=code, reason=_REASON_FOR_CODE.get(code, "Unknown"), message=message)


class ClientError(Exception):
    """Any failure of a request made through ``Client``."""


class ConnectionFailed(ClientError):
    """The request got no HTTP answer (connection refused, reset, timed out)."""


class APIStatusError(ClientError):
    """The apiserver answered outside 2xx; ``status`` says why."""

    def __init__(self, status: Status) -> None:
        super().__init__(f"{status.code} {status.reason}: {status.message}")
        self.status = status

    @property
    def code(self) -> int:
        return self.status.code

    @property
    def reason(self) -> str:
        return self.status.reason

    @property
    def message(self) -> str:
        return self.status.message

    @property
    def details(self) -> Obj:
        return self.status.details

    def is_not_found(self) -> bool:
        """Tell whether the object (or its namespace) does not exist."""
        return self.reason == "NotFound" or (self.code == 404 and not self.reason)

    def is_already_exists(self) -> bool:
        """Tell whether a create met an object of the same name."""
        return self.reason == "AlreadyExists"

    def is_conflict(self) -> bool:
        """Tell whether a write lost a race (stale resourceVersion, failed precondition)."""
        return self.reason == "Conflict" or (self.code == 409 and self.reason not in ("AlreadyExists",))

    def is_expired(self) -> bool:
        """Tell whether a resourceVersion is too old (410): the caller must relist."""
        return self.code == 410 or self.reason in ("Expired", "Gone")

    def is_invalid(self) -> bool:
        """Tell whether the object failed validation (422)."""
        return self.reason == "Invalid" or (self.code == 422 and not self.reason)


def is_not_found(err: BaseException) -> bool:
    """Tell whether ``err`` is a NotFound answer (any other exception: no)."""
    return isinstance(err, APIStatusError) and err.is_not_found()


def is_already_exists(err: BaseException) -> bool:
    """Tell whether ``err`` is an AlreadyExists answer."""
    return isinstance(err, APIStatusError) and err.is_already_exists()


def is_conflict(err: BaseException) -> bool:
    """Tell whether ``err`` is a Conflict answer."""
    return isinstance(err, APIStatusError) and err.is_conflict()


def is_expired(err: BaseException) -> bool:
    """Tell whether ``err`` is a 410 Expired answer."""
    return isinstance(err, APIStatusError) and err.is_expired()


def is_invalid(err: BaseException) -> bool:
    """Tell whether ``err`` is a 422 Invalid answer."""
    return isinstance(err, APIStatusError) and err.is_invalid()


# --- retries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``base * factor**(n-1)`` before retry n, never above ``cap``.

    ``max_tries`` counts every attempt, the first one included.
    """

    base: float = 0.1
    factor: float = 2.0
    cap: float = 10.0
    max_tries: int = 5

    def delay(self, retry: int) -> float:
        """Return how long to wait before retry number ``retry`` (1 for the first retry)."""
        return min(self.cap, self.base * self.factor ** max(0, retry - 1))


def retry_after(resp: httpx.Response) -> float | None:
    """Return the delay the server asked for, in seconds, or None.

    Reads the ``Retry-After`` header (delta-seconds only; an HTTP date is ignored), then the
    Status's ``details.retryAfterSeconds``.
    """
    header = resp.headers.get("Retry-After", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict):
        seconds = (body.get("details") or {}).get("retryAfterSeconds")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return max(0.0, float(seconds))
    return None


def _connection_never_opened(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


# --- the client -----------------------------------------------------------------------------


class PatchType(StrEnum):
    """The four PATCH flavours, as the Content-Type each is sent with."""

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


class PropagationPolicy(StrEnum):
    """What happens to an object's dependents when it is deleted."""

    BACKGROUND = "Background"
    FOREGROUND = "Foreground"
    ORPHAN = "Orphan"


@dataclass(frozen=True)
class Preconditions:
    """A delete only goes ahead if the object still has this uid / resourceVersion."""

    uid: str | None = None
    resource_version: str | None = None

    def to_dict(self) -> Obj:
        out: Obj = {}
        if self.uid:
            out["uid"] = self.uid
        if self.resource_version:
            out["resourceVersion"] = self.resource_version
        return out


@dataclass(frozen=True)
class ListResult:
    """One list answer: the items and the revision they were read at."""

    items: list[Obj]
    resource_version: str
    continue_token: str = ""
    kind: str = ""


def user_agent(component: str, name: str | None = None, *, version: str = KUBERNETES_VERSION) -> str:
    """Return the User-Agent of a component, its first token being the component."""
    if not component or any(c in component for c in "/ \t"):
        raise ValueError(f"component must be one token such as 'kube-scheduler', not {component!r}")
    tail = f"kubeviz/{name}" if name else "kubeviz"
    return f"{component}/{version} ({PLATFORM}) {tail}"


def _selector_text(selector: Selector | str | None) -> str | None:
    """Return a selector's query-string form (a ``labels.Selector`` prints itself)."""
    if selector is None:
        return None
    return str(selector)


def _object_name(obj: Mapping[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        raise ValueError("the object has no metadata.name")
    return str(name)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client in the process.

    Building one reads the whole CA bundle (about 20 ms); a client made per request, as the
    forms' endpoint makes them, would pay that each time.  A context is safe to share.
    """
    return httpx.create_ssl_context()


class Client:
    """A synchronous apiserver client with one identity; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        *,
        component: str,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so sharing the default is safe
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.component = component
        self.name = name
        self.user_agent = user_agent(component, name)
        self.backoff = backoff
        self.timeout = timeout
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            verify=tls_context(),
            timeout=timeout,
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, component={self.component!r}, name={self.name!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request (with retries) and return its decoded JSON answer."""
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if content is not None else None
        resp = self._send(method, path, params=params, content=content, headers=headers)
        if not resp.content:
            return None
        return orjson.loads(resp.content)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        tries = max(1, self.backoff.max_tries)
        for attempt in range(1, tries + 1):
            last = attempt == tries
            try:
                resp = self._http.request(
                    method, path, params=dict(params or {}), content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if last or not (method in SAFE_METHODS or _connection_never_opened(exc)):
                    raise ConnectionFailed(f"{method} {path}: {exc!r}") from exc
                delay = self.backoff.delay(attempt)
                log.debug("%s %s failed (%r); retry %d in %.2fs", method, path, exc, attempt, delay)
                self._sleep(delay)
                continue
            if resp.is_success:
                return resp
            if resp.status_code in RETRYABLE_CODES and not last:
                asked = retry_after(resp)
                delay = self.backoff.delay(attempt) if asked is None else asked
                log.debug(
                    "%s %s answered %d; retry %d in %.2fs", method, path, resp.status_code, attempt, delay
                )
                self._sleep(delay)
                continue
            raise APIStatusError(Status.from_response(resp))
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def stream(
        self, path: str, *, params: Mapping[str, str], read_timeout: float | None
    ) -> Iterator[httpx.Response]:
        """Open a streaming GET (a watch) once, without retries; raise on a non-2xx answer."""
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        request = self._http.build_request("GET", path, params=dict(params), timeout=timeout)
        try:
            resp = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"GET {path}: {exc!r}") from exc
        try:
            if not resp.is_success:
                resp.read()
                raise APIStatusError(Status.from_response(resp))
            yield resp
        finally:
            resp.close()

    # --- verbs --------------------------------------------------------------------------

    def _namespace_of(self, resource: Resource, obj: Mapping[str, Any], namespace: str | None) -> str | None:
        if not resource.namespaced:
            return None
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        if not ns:
            raise ValueError(f"{resource.plural} is namespaced: give a namespace")
        return str(ns)

    @staticmethod
    def _write_params(*, field_manager: str | None, dry_run: bool) -> dict[str, str]:
        params: dict[str, str] = {}
        if field_manager:
            params["fieldManager"] = field_manager
        if dry_run:
            params["dryRun"] = "All"
        return params

    def get(
        self, resource: Resource, name: str, *, namespace: str | None = None, subresource: str = ""
    ) -> Obj:
        """Return one object (or one of its subresources, such as ``scale``)."""
        return self.request("GET", resource.path(namespace=namespace, name=name, subresource=subresource))

    def list(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
    ) -> ListResult:
        """Return one page of a list; ``namespace=None`` lists across all namespaces.

        ``label_selector`` is a query string or a ``labels.Selector``.
        """
        params: dict[str, str] = {}
        selector = _selector_text(label_selector)
        if selector:
            params["labelSelector"] = selector
        if field_selector:
            params["fieldSelector"] = field_selector
        if limit:
            params["limit"] = str(limit)
        if continue_token:
            params["continue"] = continue_token
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        body = self.request("GET", resource.path(namespace=namespace), params=params)
        meta = body.get("metadata") or {}
        return ListResult(
            items=list(body.get("items") or []),
            resource_version=str(meta.get("resourceVersion") or ""),
            continue_token=str(meta.get("continue") or ""),
            kind=str(body.get("kind") or ""),
        )

    def list_all(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> ListResult:
        """Return every item, following ``continue`` tokens page by page.

        All pages read the first page's snapshot, so the result is consistent at its
        resourceVersion.  If a continue token expires (410) mid-way, the list starts again
        without paging, as client-go's pager does.
        """
        items: list[Obj] = []
        token: str | None = None
        first: ListResult | None = None
        while True:
            try:
                page = self.list(
                    resource,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=page_size,
                    continue_token=token,
                )
            except APIStatusError as exc:
                if not (token and exc.is_expired()):
                    raise
                return self.list(
                    resource,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                )
            first = first or page
            items.extend(page.items)
            if not page.continue_token:
                return ListResult(items=items, resource_version=first.resource_version, kind=first.kind)
            token = page.continue_token

    def create(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Create an object; the namespace defaults to the object's ``metadata.namespace``."""
        ns = self._namespace_of(resource, obj, namespace)
        return self.request(
            "POST",
            resource.path(namespace=ns),
            params=self._write_params(field_manager=field_manager, dry_run=dry_run),
            body=obj,
        )

    def update(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str = "",
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Replace an object (PUT); a stale ``metadata.resourceVersion`` answers 409 Conflict."""
        ns = self._namespace_of(resource, obj, namespace)
        return self.request(
            "PUT",
            resource.path(namespace=ns, name=_object_name(obj), subresource=subresource),
            params=self._write_params(field_manager=field_manager, dry_run=dry_run),
            body=obj,
        )

    def update_status(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
    ) -> Obj:
        """Replace an object's status through the ``status`` subresource."""
        return self.update(
            resource, obj, namespace=namespace, subresource="status", field_manager=field_manager
        )

    def patch(
        self,
        resource: Resource,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str = "",
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> Obj:
        """Patch an object with one of the four patch types.

        Server-side apply (``PatchType.APPLY``) needs a field manager; it defaults to this
        client's name (else its component).  ``force`` takes over fields other managers own.
        """
        if patch_type is PatchType.APPLY:
            field_manager = field_manager or self.name or self.component
        params = self._write_params(field_manager=field_manager, dry_run=dry_run)
        if force:
            if patch_type is not PatchType.APPLY:
                raise ValueError("force is only meaningful for server-side apply")
            params["force"] = "true"
        return self.request(
            "PATCH",
            resource.path(namespace=namespace, name=name, subresource=subresource),
            params=params,
            body=patch,
            content_type=str(patch_type),
        )

    def apply(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
        subresource: str = "",
    ) -> Obj:
        """Server-side apply ``obj`` (a partial object stating the fields this manager owns)."""
        ns = self._namespace_of(resource, obj, namespace)
        return self.patch(
            resource,
            _object_name(obj),
            obj,
            namespace=ns,
            patch_type=PatchType.APPLY,
            subresource=subresource,
            field_manager=field_manager,
            force=force,
        )

    def delete(
        self,
        resource: Resource,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: PropagationPolicy | str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete an object; return the answer (a Status, or the object while finalizers hold it)."""
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = str(propagation_policy)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions is not None and preconditions.to_dict():
            options["preconditions"] = preconditions.to_dict()
        if dry_run:
            options["dryRun"] = ["All"]
        return self.request(
            "DELETE",
            resource.path(namespace=namespace, name=name),
            params={"dryRun": "All"} if dry_run else None,
            body=options,
        )

    def bind(self, *, namespace: str, pod: str, node: str, uid: str | None = None) -> Obj:
        """Assign a pod to a node through ``pods/binding`` (what kube-scheduler does)."""
        meta: Obj = {"name": pod, "namespace": namespace}
        if uid:
            meta["uid"] = uid
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": meta,
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        return self.request(
            "POST", PODS.path(namespace=namespace, name=pod, subresource="binding"), body=binding
        )

    def scale(self, resource: Resource, name: str, *, replicas: int, namespace: str | None = None) -> Obj:
        """Set a workload's replicas through its ``scale`` subresource; return the Scale."""
        return self.patch(
            resource, name, {"spec": {"replicas": replicas}}, namespace=namespace, subresource="scale"
        )


# --- the built-in resources (the apiserver's resources.yaml, as the client sees it) ---------

NAMESPACES = Resource("", "v1", "namespaces", namespaced=False, kind="Namespace")
NODES = Resource("", "v1", "nodes", namespaced=False, kind="Node")
PODS = Resource("", "v1", "pods", namespaced=True, kind="Pod")
SERVICES = Resource("", "v1", "services", namespaced=True, kind="Service")
ENDPOINTS = Resource("", "v1", "endpoints", namespaced=True, kind="Endpoints")
CONFIGMAPS = Resource("", "v1", "configmaps", namespaced=True, kind="ConfigMap")
SECRETS = Resource("", "v1", "secrets", namespaced=True, kind="Secret")
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", namespaced=True, kind="ServiceAccount")
EVENTS = Resource("", "v1", "events", namespaced=True, kind="Event")
EVENTS_K8S_IO = Resource("events.k8s.io", "v1", "events", namespaced=True, kind="Event")
LEASES = Resource("coordination.k8s.io", "v1", "leases", namespaced=True, kind="Lease")
DEPLOYMENTS = Resource("apps", "v1", "deployments", namespaced=True, kind="Deployment")
REPLICASETS = Resource("apps", "v1", "replicasets", namespaced=True, kind="ReplicaSet")
DAEMONSETS = Resource("apps", "v1", "daemonsets", namespaced=True, kind="DaemonSet")
STATEFULSETS = Resource("apps", "v1", "statefulsets", namespaced=True, kind="StatefulSet")
CONTROLLERREVISIONS = Resource(
    "apps", "v1", "controllerrevisions", namespaced=True, kind="ControllerRevision"
)
JOBS = Resource("batch", "v1", "jobs", namespaced=True, kind="Job")
CRONJOBS = Resource("batch", "v1", "cronjobs", namespaced=True, kind="CronJob")
ENDPOINTSLICES = Resource("discovery.k8s.io", "v1", "endpointslices", namespaced=True, kind="EndpointSlice")
IPADDRESSES = Resource("networking.k8s.io", "v1", "ipaddresses", namespaced=False, kind="IPAddress")

BUILTIN: tuple[Resource, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    CONFIGMAPS,
    SECRETS,
    SERVICEACCOUNTS,
    EVENTS,
    EVENTS_K8S_IO,
    LEASES,
    DEPLOYMENTS,
    REPLICASETS,
    DAEMONSETS,
    STATEFULSETS,
    CONTROLLERREVISIONS,
    JOBS,
    CRONJOBS,
    ENDPOINTSLICES,
    IPADDRESSES,
)


def resource_for(plural: str, group: str = "") -> Resource:
    """Return the built-in resource with this plural in this group (``""`` is core)."""
    for res in BUILTIN:
        if res.plural == plural and res.group == group:
            return res
    raise KeyError(f"no built-in resource {plural!r} in group {group!r}")
