"""The forms' endpoints: apply manifests and act on objects, as the ``kubeviz-web`` client.

* ``POST /api/clusters/<name>/apply`` ``{"yaml", "namespace"?, "dryRun"?, "mode"?: "apply"|"replace", "force"?}``
  → 200 with an ``ApplyReport`` (``documents[]``: index, kind, name, namespace, result).  When a
  document fails, the answer is that document's ``Status`` (its code, reason, message and
  ``details.causes``) with ``details.document`` set to its index and the whole report under
  ``report``: which documents were applied, which failed, which were not attempted.
* ``POST /api/clusters/<name>/actions`` ``{"action": "scale"|"delete"|"restart", "apiVersion", "kind",
  "namespace", "name", "replicas"?, "propagationPolicy"?}`` → the API's answer.

Both are browser forms, so both need Django's CSRF token (the ``csrftoken`` cookie the pages
set, sent back as ``X-CSRFToken``); a request without it is refused with a 403 ``Status``.
The Kubernetes API itself, under ``/k8s/``, is for programs and takes no cookies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_protect

from kubeviz.client import rest
from kubeviz.web import actions, activity
from kubeviz.web.apply import MODES, apply_documents
from kubeviz.web.manifests import ManifestError, load_documents, resource_of

#: A JSON body carries the YAML escaped; allow for that, refuse anything far larger unread.
MAX_BODY_BYTES = 2 * settings.KUBEVIZ_MAX_REQUEST_BYTES


def _json(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def status(
    code: int,
    reason: str,
    message: str,
    *,
    causes: list[dict[str, str]] | None = None,
    kind: str = "",
    name: str = "",
) -> HttpResponse:
    return _json(
        rest.Status.failure(code, reason, message, causes=causes, kind=kind, name=name).to_dict(), code
    )


def invalid(field: str, message: str, *, kind: str = "") -> HttpResponse:
    return status(
        422,
        "Invalid",
        f"{field}: {message}",
        causes=[{"reason": "FieldValueInvalid", "field": field, "message": message}],
        kind=kind,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal, as a Kubernetes Status."""
    return status(
        403, "Forbidden",
        "this form was sent without a valid CSRF token; reload the page and send it again "
        f"({reason or 'no token'})",
    )  # fmt: skip


def read_json(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """Return the JSON object a request carries, or the Status that says why it cannot be read."""
    length = request.headers.get("Content-Length", "")
    if (length.isdigit() and int(length) > MAX_BODY_BYTES) or len(request.body) > MAX_BODY_BYTES:
        return status(
            413,
            "RequestEntityTooLarge",
            f"Request entity too large: limit is {settings.KUBEVIZ_MAX_REQUEST_BYTES}",
        )
    try:
        raw = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return status(400, "BadRequest", f"request body is not valid JSON: {exc}")
    if not isinstance(raw, dict):
        return status(400, "BadRequest", "request body must be a JSON object")
    return raw


def client_for(cluster: str) -> rest.Client:
    """Return a client that reaches the cluster's apiserver over HTTP, as kubectl would."""
    return rest.Client(f"{settings.KUBEVIZ_API_URL}/k8s/{cluster}", component="kubeviz-web", timeout=30)


def _posted(work: Callable[[str, dict[str, Any]], HttpResponse], usage: str) -> Any:
    """An endpoint for a POST of JSON about cluster ``name``, which ``work`` answers off the event loop.

    CSRF is checked first; the cluster is noted as in use; ``work`` calls the cluster's apiserver
    over HTTP, so it runs in a thread of its own.
    """

    @csrf_protect
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        if request.method != "POST":
            return status(405, "MethodNotAllowed", usage)
        raw = read_json(request)
        if isinstance(raw, HttpResponse):
            return raw
        activity.touch(name)
        return await sync_to_async(work, thread_sensitive=False)(name, raw)

    return view


def _apply(cluster: str, raw: dict[str, Any]) -> HttpResponse:
    text = raw.get("yaml")
    if not isinstance(text, str):
        return invalid("yaml", "the manifest text is required, as a string of YAML")
    mode = raw.get("mode", "apply")
    if mode not in MODES:
        return invalid(
            "mode",
            'must be "apply" (create or patch, as kubectl apply) or "replace" (send the whole object back)',
        )
    namespace = raw.get("namespace") or "default"
    if not isinstance(namespace, str):
        return invalid("namespace", "must be a string")
    try:
        docs = load_documents(text)
    except ManifestError as exc:
        too_big = exc.message.startswith("the manifest is")
        return status(
            413 if too_big else 400, "RequestEntityTooLarge" if too_big else "BadRequest", exc.message,
            causes=exc.causes or None,
        )  # fmt: skip
    with client_for(cluster) as client:
        try:
            report = apply_documents(
                client,
                docs,
                namespace=namespace,
                dry_run=bool(raw.get("dryRun")),
                mode=mode,
                force=bool(raw.get("force")),
            )
        except rest.ClientError as exc:  # discovery could not be read
            return status(503, "ServiceUnavailable", f"the cluster's apiserver could not be asked: {exc}")
    failed = report.failed
    if failed is None:
        return _json(report.to_dict())
    body = dict(failed.status or {})
    total = len(report.outcomes)
    applied = [o.index + 1 for o in report.outcomes if o.result in ("created", "configured", "unchanged")]
    what = f"document {failed.index + 1} of {total} ({failed.kind} {failed.name!r})"
    if report.dry_run or not applied:
        tail = "nothing was applied"
    else:
        tail = f"documents {', '.join(map(str, applied))} were applied; the rest were not"
    body["message"] = f"{what}: {body.get('message', 'failed')}; {tail}"
    body.setdefault("details", {})["document"] = failed.index
    body["report"] = report.to_dict()
    return _json(body, int(body.get("code") or 500))


apply_view = _posted(_apply, 'use POST with {"yaml": ...}')


def _act(cluster: str, raw: dict[str, Any]) -> HttpResponse:
    for key in ("action", "apiVersion", "kind", "name"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            return invalid(key, "is required")
    try:
        actions.check(raw["action"], raw["kind"], raw)
    except actions.ActionInvalid as exc:
        return invalid(exc.field, exc.message, kind=raw["kind"])
    with client_for(cluster) as client:
        try:
            res = resource_of(client, raw["apiVersion"], raw["kind"])
            if res is None:
                return status(
                    404,
                    "NotFound",
                    f'the server does not serve kind "{raw["kind"]}" in apiVersion "{raw["apiVersion"]}"',
                )
            namespace = (raw.get("namespace") or "default") if res.namespaced else None
            body = actions.run(
                client, res, action=raw["action"], name=raw["name"], namespace=namespace, body=raw
            )
        except rest.APIStatusError as exc:
            return _json(exc.status.to_dict(), exc.code)
        except rest.ClientError as exc:
            return status(503, "ServiceUnavailable", f"the cluster's apiserver could not be reached: {exc}")
    return _json(body)


actions_view = _posted(_act, "use POST")
