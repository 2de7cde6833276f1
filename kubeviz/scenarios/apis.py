"""The scenario API: store, read, export, launch and share.

* ``GET /api/scenarios`` → the built-in library (scenarios people store are not listed: their
  slugs are the only way to them).
* ``POST /api/scenarios`` ``{"yaml": <Scenario YAML>}`` or ``{"fromCluster": <name>}`` → 201
  ``{"slug", "url", "title"}``; the URL is ``/s/<slug>``.
* ``GET /api/scenarios/<slug>`` → ``{"slug", "url", "title", "description", "builtin", "document", "yaml"}``;
  ``GET /api/scenarios/<slug>/export`` → the YAML as a download.
* ``POST /api/scenarios/<slug>/launch`` → 201 ``{"cluster", "url"}``: a fresh, unlisted cluster
  for whoever asked; 429 when kubeviz already runs as many clusters as it may.
* ``GET /api/clusters/<name>/story`` → a launched cluster's steps and where they have got to;
  ``POST …/story/resume`` continues after a pause step.
* ``GET`` / ``POST /api/clusters/<name>/links`` ``{"mode": "view"|"edit"}`` → live links to the
  running cluster (``url`` ``/clusters/live-<token>/``).

Writes take JSON only (``Content-Type: application/json``) and refuse other sites' pages (the
``Origin`` header), which is what keeps a page elsewhere from using them in a visitor's name.
Failures are Kubernetes ``Status`` objects.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from kubeviz.scenarios import document, library, runner, services
from kubeviz.scenarios.models import Launch, LiveLink, Scenario
from kubeviz.web.apis import read_json, status


def _json(body: Any, code: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=code, content_type="application/json")


def _guard(request: HttpRequest) -> HttpResponse | None:
    """Refuse a write that is not JSON, or that another site's page sent."""
    origin = request.headers.get("Origin")
    if (
        origin
        and origin != f"{request.scheme}://{request.get_host()}"
        and origin not in settings.KUBEVIZ_ALLOWED_ORIGINS
    ):
        return status(403, "Forbidden", f"requests from pages of {origin} are not accepted")
    kind = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        return status(
            415,
            "UnsupportedMediaType",
            f'send JSON with "Content-Type: application/json" (got "{kind or "none"}")',
        )
    return None


def _posted(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """The JSON object a guarded write carries, or the Status that refuses it."""
    return _guard(request) or read_json(request)


def _invalid(exc: document.DocumentInvalid, name: str = "") -> HttpResponse:
    return status(422, "Invalid", exc.message, causes=exc.causes, kind="scenarios", name=name)


def _not_found(slug: str) -> HttpResponse:
    return status(404, "NotFound", f'scenario "{slug}" not found', kind="scenarios", name=slug)


def describe(s: Scenario, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": s.slug, "url": f"/s/{s.slug}", "title": s.title, "builtin": s.builtin}
    if full:
        doc = document.parse(s.text)
        out.update({"description": doc["spec"]["description"], "document": doc, "yaml": s.text})
    return out


def _get(slug: str) -> Scenario | None:
    library.ensure()
    return Scenario.objects.filter(slug=slug).first()


def _create(raw: dict[str, Any]) -> HttpResponse:
    if ("yaml" in raw) == ("fromCluster" in raw):
        return status(422, "Invalid", 'give exactly one of "yaml" (a Scenario document) or "fromCluster" (a cluster name)',
                      causes=[{"reason": "FieldValueRequired", "field": "yaml", "message": "yaml or fromCluster is required"}])  # fmt: skip
    if "yaml" in raw:
        if not isinstance(raw["yaml"], str):
            return status(
                422,
                "Invalid",
                "yaml: must be the scenario's YAML text",
                causes=[{"reason": "FieldValueInvalid", "field": "yaml", "message": "must be a string"}],
            )
        try:
            doc = document.parse(raw["yaml"])
        except document.DocumentInvalid as exc:
            return _invalid(exc)
    else:
        if not isinstance(raw["fromCluster"], str) or not raw["fromCluster"]:
            return status(
                422,
                "Invalid",
                "fromCluster: must name a cluster",
                causes=[
                    {"reason": "FieldValueInvalid", "field": "fromCluster", "message": "must name a cluster"}
                ],
            )
        try:
            doc = services.snapshot(raw["fromCluster"])
        except services.Refused as exc:
            return _json(exc.status, exc.code)
        except document.DocumentInvalid as exc:
            return _invalid(exc, raw["fromCluster"])
    found = services.scenario_create(doc=doc)
    return _json(describe(found), 201)


@csrf_exempt
async def scenarios_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        items = await sync_to_async(
            lambda: [describe(s) for s in library.builtins()], thread_sensitive=False
        )()
        return _json({"items": items})
    if request.method != "POST":
        return status(405, "MethodNotAllowed", "use GET or POST")
    raw = _posted(request)
    if isinstance(raw, HttpResponse):
        return raw
    return await sync_to_async(_create, thread_sensitive=False)(raw)


def _detail(slug: str) -> HttpResponse:
    found = _get(slug)
    return _not_found(slug) if found is None else _json(describe(found, full=True))


async def scenario_view(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "GET":
        return status(405, "MethodNotAllowed", "use GET")
    return await sync_to_async(_detail, thread_sensitive=False)(slug)


def _export(slug: str) -> HttpResponse:
    found = _get(slug)
    if found is None:
        return _not_found(slug)
    resp = HttpResponse(found.text, content_type="application/yaml; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="scenario-{found.slug}.yaml"'
    return resp


async def export_view(request: HttpRequest, slug: str) -> HttpResponse:
    return await sync_to_async(_export, thread_sensitive=False)(slug)


def _launch(slug: str) -> HttpResponse:
    found = _get(slug)
    if found is None:
        return _not_found(slug)
    try:
        launch = services.launch(found)
    except services.Refused as exc:
        resp = _json(exc.status, exc.code)
        if exc.code == 429:
            resp.headers["Retry-After"] = "60"
        return resp
    except httpx.HTTPError as exc:
        return status(503, "ServiceUnavailable", f"the cluster could not be created: {exc}")
    return _json(
        {"cluster": launch.cluster, "url": f"/clusters/{launch.cluster}/", "scenario": found.slug}, 201
    )


@csrf_exempt
async def launch_view(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return status(405, "MethodNotAllowed", "use POST")
    refused = _guard(request)
    if refused:
        return refused
    return await sync_to_async(_launch, thread_sensitive=False)(slug)


def _story(name: str, resume: bool) -> HttpResponse:
    launch = Launch.objects.select_related("scenario").filter(cluster=name).first()
    if launch is None:
        return status(
            404, "NotFound", f'cluster "{name}" was not launched from a scenario', kind="clusters", name=name
        )
    if resume:
        runner.resume(launch)
    return _json(runner.progress(launch))


async def story_view(request: HttpRequest, name: str) -> HttpResponse:
    if request.method == "GET":
        resp = await sync_to_async(_story, thread_sensitive=False)(name, False)
    elif request.method == "POST":
        resp = await sync_to_async(_story, thread_sensitive=False)(name, True)
    else:
        return status(405, "MethodNotAllowed", "use GET, or POST to continue after a pause")
    link = getattr(request, "kubeviz_link", None)
    if link is not None and resp.status_code == 200:
        body = json.loads(resp.content)
        body["cluster"] = link.token
        resp = _json(body)
    return resp


def link_json(link: LiveLink) -> dict[str, Any]:
    return {
        "token": link.token,
        "mode": link.mode,
        "url": f"/clusters/{link.token}/",
        "kubeconfig": f"/api/clusters/{link.token}/kubeconfig",
        "created": link.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _links(name: str, raw: dict[str, Any] | None) -> HttpResponse:
    with services.explorer() as http:
        if http.get(f"/api/clusters/{name}").status_code != 200:
            return status(404, "NotFound", f'cluster "{name}" not found', kind="clusters", name=name)
    if raw is None:
        return _json(
            {"items": [link_json(x) for x in LiveLink.objects.filter(cluster=name).order_by("created")]}
        )
    mode = raw.get("mode")
    if mode not in (LiveLink.VIEW, LiveLink.EDIT):
        return status(422, "Invalid", 'mode: must be "view" (watch only) or "edit" (may change the cluster)',
                      causes=[{"reason": "FieldValueNotSupported", "field": "mode", "message": 'must be "view" or "edit"'}])  # fmt: skip
    return _json(link_json(services.link_create(cluster=name, mode=mode)), 201)


@csrf_exempt
async def links_view(request: HttpRequest, name: str) -> HttpResponse:
    if request.method == "GET":
        if getattr(request, "kubeviz_link", None) is not None:
            return status(403, "Forbidden", "a live link cannot list the cluster's other links")
        return await sync_to_async(_links, thread_sensitive=False)(name, None)
    if request.method != "POST":
        return status(405, "MethodNotAllowed", "use GET or POST")
    raw = _posted(request)
    if isinstance(raw, HttpResponse):
        return raw
    return await sync_to_async(_links, thread_sensitive=False)(name, raw)
