"""Play a launched scenario's steps on its cluster, each at its time.

The play list is the scenario's objects (applied when the cluster starts) followed by its
steps.  A step runs when ``started + shift + at`` has passed; a ``pause`` step stops the clock
until the viewer continues, and the time spent waiting is added to ``shift`` so the steps after
it keep their spacing.  Every step is also written into the cluster as a Kubernetes Event
(reason ``ScenarioStep``, from ``kubeviz-scenario``), so its note sits on the canvas's timeline
and in ``kubectl get events`` beside what it caused.

Level-based, as every loop here: a step is carried out before it is counted as done, and
every step is idempotent (apply is a server-side apply, delete ignores what is gone, scale
and stop/start set an absolute value, the Event has a fixed name), so a worker killed between
the two only repeats a step.  A Redis lock keeps two workers off the same launch at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from kubeviz.client import rest
from kubeviz.client.sharedcache import default_redis
from kubeviz.scenarios import document
from kubeviz.scenarios.models import Launch
from kubeviz.scenarios.services import api_client, explorer
from kubeviz.web.apply import apply_documents
from kubeviz.web.manifests import resource_of

log = logging.getLogger(__name__)

LOCK_SECONDS = 60
START_NOTE = "The scenario's objects are sent to kube-apiserver."


def play_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the steps in play order: the objects first (at 0 s), then the document's steps."""
    first = {"at": 0, "note": START_NOTE if doc["spec"]["objects"] else "", "apply": doc["spec"]["objects"]}
    return [first, *doc["spec"]["steps"]]


def due_at(launch: Launch, step: dict[str, Any]) -> float:
    return launch.started + launch.shift + float(step.get("at") or 0)


def _event(
    client: rest.Client, *, launch: Launch, index: int, step: dict[str, Any], ok: bool, message: str
) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = step.get("note") or message
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"scenario-step-{index}", "namespace": "default"},
        "involvedObject": {
            "apiVersion": document.API_VERSION,
            "kind": document.KIND,
            "name": launch.scenario.slug,
            "namespace": "default",
        },
        "reason": "ScenarioStep" if ok else "ScenarioStepFailed",
        "message": note if ok else f"{note} ({message})" if step.get("note") else message,
        "source": {"component": "kubeviz-scenario"},
        "reportingComponent": "kubeviz-scenario",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": "Normal" if ok else "Warning",
    }
    try:
        client.create(rest.EVENTS, body)
    except rest.APIStatusError as exc:
        if not exc.is_already_exists:
            log.info("%s: step %d's event not written: %s", launch.cluster, index, exc.message)


def _switch(cluster: str, target: dict[str, Any], running: bool) -> str:
    path = f"/api/clusters/{cluster}/machines/{target['machine']}"
    if target.get("component"):
        path += f"/components/{target['component']}"
    with explorer() as http:
        resp = http.patch(path, json={"running": running})
    if resp.status_code != 200:
        raise RuntimeError(resp.json().get("message", f"{resp.status_code}"))
    what = f"{target['machine']}/{target['component']}" if target.get("component") else target["machine"]
    return f"{'started' if running else 'stopped'} {what}"


def carry_out(client: rest.Client, cluster: str, step: dict[str, Any]) -> str:
    """Do what one step says; return a short account, raise on failure."""
    if step.get("apply"):
        report = apply_documents(client, step["apply"], force=True, field_manager="kubeviz-scenario")
        failed = report.failed
        if failed is not None:
            raise RuntimeError(
                f"{failed.kind} {failed.name}: {(failed.status or {}).get('message', 'failed')}"
            )
        return f"applied {len(report.outcomes)} object(s)"
    if step.get("delete"):
        for ref in step["delete"]:
            res = resource_of(client, ref["apiVersion"], ref["kind"])
            if res is None:
                raise RuntimeError(f"no kind {ref['kind']} in {ref['apiVersion']}")
            try:
                client.delete(res, ref["name"], namespace=ref["namespace"] if res.namespaced else None)
            except rest.APIStatusError as exc:
                if not exc.is_not_found:
                    raise
        return f"deleted {len(step['delete'])} object(s)"
    if step.get("scale"):
        ref = step["scale"]
        res = resource_of(client, ref["apiVersion"], ref["kind"])
        if res is None:
            raise RuntimeError(f"no kind {ref['kind']} in {ref['apiVersion']}")
        client.scale(res, ref["name"], replicas=ref["replicas"], namespace=ref["namespace"])
        return f"scaled {ref['kind']} {ref['name']} to {ref['replicas']}"
    if step.get("stop"):
        return _switch(cluster, step["stop"], False)
    if step.get("start"):
        return _switch(cluster, step["start"], True)
    return "paused" if step.get("pause") else "note"


def advance(launch: Launch, *, now: float | None = None) -> int:
    """Run every step of ``launch`` that is due; return how many ran."""
    lock = default_redis().lock(
        f"{settings.KUBEVIZ_REDIS_PREFIX}:scenario:{launch.cluster}", timeout=LOCK_SECONDS, blocking=False
    )
    if not lock.acquire(blocking=False):
        return 0
    try:
        launch.refresh_from_db()
        steps = play_list(document.parse(launch.scenario.text))
        ran = 0
        with api_client(launch.cluster) as client:
            while launch.done < len(steps) and not launch.paused:
                at = time.time() if now is None else now
                step = steps[launch.done]
                if due_at(launch, step) > at:
                    break
                ok, message = True, ""
                try:
                    message = carry_out(client, launch.cluster, step)
                except (rest.ClientError, RuntimeError, OSError) as exc:
                    ok, message = False, str(exc)
                    log.warning("%s: step %d failed: %s", launch.cluster, launch.done, message)
                if step.get("note") or not ok:
                    _event(client, launch=launch, index=launch.done, step=step, ok=ok, message=message)
                launch.log = [
                    *launch.log,
                    {
                        "step": launch.done,
                        "at": round(at, 3),
                        "note": step.get("note", ""),
                        "ok": ok,
                        "message": message,
                    },
                ]
                launch.done += 1
                ran += 1
                if step.get("pause"):
                    launch.paused, launch.due = True, at
                else:
                    nxt = steps[launch.done] if launch.done < len(steps) else None
                    launch.due = due_at(launch, nxt) if nxt else None
                launch.save(update_fields=["done", "paused", "due", "log"])
        return ran
    finally:
        with contextlib.suppress(Exception):  # the lock expired: the next tick takes it again
            lock.release()


def resume(launch: Launch, *, now: float | None = None) -> Launch:
    """Continue after a pause step: the clock starts again where it stopped."""
    at = time.time() if now is None else now
    if launch.paused:
        launch.shift += max(0.0, at - (launch.due or at))
        launch.paused = False
        launch.due = at
        launch.save(update_fields=["shift", "paused", "due"])
    return launch


def _field(obj: Any, path: str) -> Any:
    """Read a dotted field path with list indexes (``spec.taints[0].key``); None when absent."""
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def evaluate(client: rest.Client, expect: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the scenario's end state: each expectation with what the cluster holds now."""
    out = []
    for e in expect:
        actual: Any = None
        try:
            res = resource_of(client, e["apiVersion"], e["kind"])
            if res is not None:
                actual = _field(
                    client.get(res, e["name"], namespace=e["namespace"] if res.namespaced else None),
                    e["field"],
                )
        except rest.ClientError:
            actual = None
        out.append({**e, "actual": actual, "ok": actual == e["equals"]})
    return out


def progress(launch: Launch, *, check: bool = True) -> dict[str, Any]:
    """Return the story's state for the viewer: every step, which ran, and what comes next."""
    doc = document.parse(launch.scenario.text)
    steps = play_list(doc)
    ran = {entry["step"]: entry for entry in launch.log}
    items = []
    for i, step in enumerate(steps):
        action = next((a for a in document.ACTIONS if a in step and step[a]), "note")
        entry = ran.get(i)
        items.append(
            {
                "index": i, "at": step.get("at", 0), "note": step.get("note", ""), "action": action,
                "done": i < launch.done, "ok": entry["ok"] if entry else None,
                "ranAt": entry["at"] if entry else None, "message": entry["message"] if entry else "",
            }
        )  # fmt: skip
    body: dict[str, Any] = {
        "cluster": launch.cluster,
        "scenario": launch.scenario.slug,
        "title": doc["spec"]["title"],
        "description": doc["spec"]["description"],
        "started": launch.started,
        "paused": launch.paused,
        "finished": launch.done >= len(steps),
        "steps": items,
        "expect": doc["spec"]["expect"],
    }
    if check and doc["spec"]["expect"]:
        with api_client(launch.cluster) as client:
            body["expect"] = evaluate(client, doc["spec"]["expect"])
        body["reached"] = body["finished"] and all(e["ok"] for e in body["expect"])
    return body
