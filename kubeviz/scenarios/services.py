"""Writes on scenarios: store a document, snapshot a cluster, launch, share, and clean up.

Scenarios are a client of kubeviz like any other: clusters are created, listed and removed
through the explorer API and objects through the Kubernetes API, over HTTP, with the
identity ``kubeviz-scenario``.  So a launched cluster's story is drawn like anything a
person does.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from kubeviz.client import internal, rest
from kubeviz.scenarios import document
from kubeviz.scenarios.models import Launch, LiveLink, Scenario

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
SLUG_LENGTH = 10  # 50 random bits: short enough to read out, too many to guess
COMPONENT = "kubeviz-scenario"


def random_text(length: int) -> str:
    return "".join(secrets.choice(_BASE32) for _ in range(length))


@dataclass
class Refused(Exception):
    """The explorer API said no (the cluster cap, most often); ``status`` is its Status."""

    status: dict[str, Any]
    code: int


def explorer() -> httpx.Client:
    return httpx.Client(
        base_url=settings.KUBEVIZ_API_URL,
        timeout=60,
        verify=rest.tls_context(),
        headers={"User-Agent": f"{COMPONENT}/v1.36.0", **internal.headers()},
    )


def api_client(cluster: str) -> rest.Client:
    return rest.Client(f"{settings.KUBEVIZ_API_URL}/k8s/{cluster}", component=COMPONENT, timeout=30)


# --- documents ---------------------------------------------------------------------------


def scenario_create(*, doc: dict[str, Any], builtin: bool = False, slug: str | None = None) -> Scenario:
    """Store a normalized document under a new unguessable slug (or the given one, for built-ins)."""
    text = document.dump(doc)
    if slug is not None:
        found, _ = Scenario.objects.update_or_create(
            slug=slug, defaults={"title": doc["spec"]["title"], "text": text, "builtin": builtin}
        )
        return found
    for _ in range(5):
        candidate = random_text(SLUG_LENGTH)
        if not Scenario.objects.filter(slug=candidate).exists():
            return Scenario.objects.create(
                slug=candidate, title=doc["spec"]["title"], text=text, builtin=builtin
            )
    raise RuntimeError("no free slug after 5 tries")  # pragma: no cover - 2**50 slugs


#: Namespaces and objects every cluster makes for itself: not part of a person's story.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
SNAPSHOT_RESOURCES = (
    rest.NAMESPACES, rest.CONFIGMAPS, rest.SECRETS, rest.SERVICES, rest.DEPLOYMENTS, rest.STATEFULSETS,
    rest.DAEMONSETS, rest.JOBS, rest.CRONJOBS, rest.PODS,
)  # fmt: skip
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision")
_JOB_LABELS = (
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)


def _clean(obj: dict[str, Any], res: rest.Resource) -> dict[str, Any] | None:
    """Return what a person would have written for ``obj``, or None if the cluster made it."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    if meta.get("ownerReferences") or (ns and ns.startswith("kube-")):
        return None
    if res is rest.NAMESPACES and meta.get("name") in SYSTEM_NAMESPACES:
        return None
    if res is rest.CONFIGMAPS and meta.get("name") == "kube-root-ca.crt":
        return None
    if res is rest.SERVICES and ns == "default" and meta.get("name") == "kubernetes":
        return None
    if res is rest.SECRETS and obj.get("type") == "kubernetes.io/service-account-token":
        return None
    clean_meta: dict[str, Any] = {"name": meta["name"]}
    if ns:
        clean_meta["namespace"] = ns
    if meta.get("labels"):
        clean_meta["labels"] = meta["labels"]
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _DROP_ANNOTATIONS}
    if annotations:
        clean_meta["annotations"] = annotations
    out = {"apiVersion": res.api_version, "kind": res.kind, "metadata": clean_meta}
    out.update({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")})
    spec = out.get("spec")
    if res is rest.SERVICES and isinstance(spec, dict) and spec.get("clusterIP") != "None":
        # a fresh cluster allocates its own addresses
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if res is rest.JOBS and isinstance(spec, dict):
        spec.pop("selector", None)
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        for key in _JOB_LABELS:
            labels.pop(key, None)
    return out


def snapshot(cluster: str) -> dict[str, Any]:
    """Return a scenario document of a live cluster: its topology and the objects people made."""
    with explorer() as http:
        resp = http.get(f"/api/clusters/{cluster}")
        if resp.status_code != 200:
            raise Refused(resp.json(), resp.status_code)
        info = resp.json()
        machines = http.get(f"/api/clusters/{cluster}/machines").json().get("items", [])
    workers = sum(1 for m in machines if m.get("role") == "worker") or info.get("workers", 0)
    topology = {k: info.get(k, v) for k, v in document.TOPOLOGY_DEFAULTS.items()}
    topology["workers"] = min(workers, document.MAX_WORKERS)
    objects: list[dict[str, Any]] = []
    with api_client(cluster) as client:
        for res in SNAPSHOT_RESOURCES:
            for obj in client.list(res).items:
                cleaned = _clean(obj, res)
                if cleaned is not None:
                    objects.append(cleaned)
    if len(objects) > document.MAX_OBJECTS:  # a share that dropped some would not be the same story
        refusal = rest.Status.failure(
            422, "Invalid",
            f"cluster {cluster} holds {len(objects)} objects people made; a scenario carries at most "
            f"{document.MAX_OBJECTS}. Delete some, or share a live link to the cluster instead.",
            causes=[{"reason": "TooMany", "field": "spec.objects", "message": f"at most {document.MAX_OBJECTS} objects"}],
            kind="clusters", name=cluster,
        )  # fmt: skip
        raise Refused(refusal.to_dict(), 422)
    raw = {
        "apiVersion": document.API_VERSION,
        "kind": document.KIND,
        "metadata": {"name": "snapshot"},
        "spec": {
            "title": f"Snapshot of {cluster}",
            "description": f"The objects and topology of cluster {cluster}, taken {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            "topology": topology,
            "objects": objects,
        },
    }
    return document.normalize(raw)


# --- launching -------------------------------------------------------------------------------


def launch(scenario: Scenario, *, now: float | None = None) -> Launch:
    """Start a fresh, unlisted cluster for one viewer; ``Refused`` carries the explorer's Status."""
    doc = document.parse(scenario.text)
    name = f"s-{random_text(12)}"
    body = {"name": name, **doc["spec"]["topology"], "listed": False}
    with explorer() as http:
        resp = http.post("/api/clusters", json=body)
    if resp.status_code != 201:
        raise Refused(resp.json(), resp.status_code)
    started = time.time() if now is None else now
    return Launch.objects.create(cluster=name, scenario=scenario, started=started, due=started)


def link_create(*, cluster: str, mode: str) -> LiveLink:
    """Make a live link to a running cluster."""
    return LiveLink.objects.create(token=f"live-{random_text(26)}", cluster=cluster, mode=mode)


def forget_cluster(cluster: str) -> None:
    """Drop what scenarios kept of a cluster that is gone."""
    with transaction.atomic():
        Launch.objects.filter(cluster=cluster).delete()
        LiveLink.objects.filter(cluster=cluster).delete()


def cluster_delete(cluster: str) -> None:
    with explorer() as http:
        resp = http.delete(f"/api/clusters/{cluster}")
    if resp.status_code not in (200, 404):
        raise Refused(resp.json(), resp.status_code)
    forget_cluster(cluster)
