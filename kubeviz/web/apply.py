"""Apply what a person submitted, through the Kubernetes API, as the ``kubeviz-web`` client.

The forms and the YAML editor send their manifests here; this module sends them on to the
cluster's kube-apiserver over HTTP, like kubectl, so every request is traced and drawn.

Contract:

* All or nothing up front.  Every document is first sent as a server-side dry run
  (``dryRun=All``): the apiserver runs defaulting, validation and admission and stores nothing.
  If any document fails, nothing is applied and the report says which document failed and why.
  A document whose namespace is created by an earlier document of the same submission is
  checked when it is applied, since its namespace cannot exist before then.
* Then in order.  Documents are applied one by one, as ``kubectl apply --server-side`` does
  (field manager ``kubeviz-web``); ``replace`` mode sends a PUT instead, which is what an edit
  of a fetched object wants (a stale ``resourceVersion`` answers 409).  Should a document still
  fail (something changed in between), applying stops there and the report lists exactly which
  documents were applied, which failed and which were not attempted.
* Each document is written by one request, and the apiserver writes each object whole or not
  at all.  The dry run also reads each object first, to tell created, configured and unchanged
  apart; the apply reuses that read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubeviz.client import rest
from kubeviz.web.manifests import resource_of

FIELD_MANAGER = "kubeviz-web"
MODES = ("apply", "replace")
#: Fields the server owns: dropped from an edited object before it is sent back.
SERVER_FIELDS = ("uid", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp")


@dataclass
class Outcome:
    index: int
    api_version: str
    kind: str
    name: str
    namespace: str | None
    result: str = "not applied"  # created | configured | unchanged | failed | not applied
    status: dict[str, Any] | None = None
    object: dict[str, Any] | None = None
    #: The object as the dry run found it (None: it did not exist), to name what the apply did.
    before: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "result": self.result,
        }
        if self.status is not None:
            out["status"] = self.status
        return out


@dataclass
class Report:
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> Outcome | None:
        return next((o for o in self.outcomes if o.result == "failed"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "ApplyReport",
            "apiVersion": "kubeviz.io/v1",
            "dryRun": self.dry_run,
            "applied": sum(o.result in ("created", "configured", "unchanged") for o in self.outcomes),
            "documents": [o.to_dict() for o in self.outcomes],
        }


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return rest.Status.failure(code, reason, message).to_dict()


def _error_status(exc: rest.ClientError) -> dict[str, Any]:
    if isinstance(exc, rest.APIStatusError):
        return exc.status.to_dict()
    return _status(503, "ServiceUnavailable", f"the apiserver could not be reached: {exc}")


def _prepare(doc: dict[str, Any], *, mode: str) -> dict[str, Any]:
    """Return the object to send: without status and the fields only the server sets."""
    obj = {k: v for k, v in doc.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_FIELDS}
    if mode == "apply":
        meta.pop("resourceVersion", None)
    obj["metadata"] = meta
    return obj


def _missing_namespace(status: dict[str, Any], created: set[str]) -> bool:
    details = status.get("details") or {}
    return (
        status.get("code") == 404 and details.get("kind") == "namespaces" and details.get("name") in created
    )


def _send(
    client: rest.Client,
    res: rest.Resource,
    obj: dict[str, Any],
    *,
    ns: str | None,
    mode: str,
    dry_run: bool,
    force: bool,
    manager: str,
) -> dict[str, Any]:
    if mode == "replace":
        return client.update(res, obj, namespace=ns, field_manager=manager, dry_run=dry_run)
    return client.patch(
        res, obj["metadata"]["name"], obj, namespace=ns, patch_type=rest.PatchType.APPLY,
        field_manager=manager, force=force, dry_run=dry_run,
    )  # fmt: skip


def apply_documents(
    client: rest.Client,
    docs: list[dict[str, Any]],
    *,
    namespace: str = "default",
    dry_run: bool = False,
    mode: str = "apply",
    force: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> Report:
    """Dry-run every document, then (unless ``dry_run``) apply them in order; see the module contract."""
    plan: list[tuple[Outcome, rest.Resource | None, dict[str, Any]]] = []
    for i, doc in enumerate(docs):
        meta = doc["metadata"]
        res = resource_of(client, doc["apiVersion"], doc["kind"])
        ns = (meta.get("namespace") or namespace) if res is None or res.namespaced else None
        obj = _prepare(doc, mode=mode)
        if ns is not None:
            obj["metadata"]["namespace"] = ns
        plan.append((Outcome(i, doc["apiVersion"], doc["kind"], str(meta["name"]), ns), res, obj))

    report = Report(dry_run=dry_run, outcomes=[o for o, _, _ in plan])
    for outcome, res, _ in plan:
        if res is None:
            outcome.result = "failed"
            outcome.status = _status(
                404, "NotFound",
                f'the server does not serve kind "{outcome.kind}" in apiVersion "{outcome.api_version}"; '
                "check both fields (for example, Deployments are apps/v1)",
            )  # fmt: skip
            return report
    send = {"mode": mode, "force": force, "manager": field_manager}
    # The dry run: nothing is applied unless every document passes.
    checked = _send_all(client, plan, dry_run=True, **send)
    if dry_run:
        return report
    for outcome in report.outcomes:  # what the dry run would have done is not what was done
        if outcome.result != "failed":
            outcome.result, outcome.object = "not applied", None
    if checked:
        _send_all(client, plan, dry_run=False, **send)
    return report


def _send_all(
    client: rest.Client,
    plan: list[tuple[Outcome, rest.Resource | None, dict[str, Any]]],
    *,
    dry_run: bool,
    mode: str,
    force: bool,
    manager: str,
) -> bool:
    """Send the documents in order, recording each outcome; stop at the first failure.

    In a dry run a document may name a namespace that an earlier document creates: the
    apiserver cannot know it yet, so that refusal alone is let through.
    """
    namespaces_here: set[str] = set()
    for outcome, res, obj in plan:
        assert res is not None
        try:
            # The apply reuses what the dry run read a moment before: one GET per document, not two.
            before = outcome.before = _current(client, res, outcome) if dry_run else outcome.before
            result = _send(
                client,
                res,
                obj,
                ns=outcome.namespace,
                mode=mode,
                dry_run=dry_run,
                force=force,
                manager=manager,
            )
        except rest.ClientError as exc:
            status = _error_status(exc)
            if not (dry_run and _missing_namespace(status, namespaces_here)):
                outcome.result, outcome.status = "failed", status
                return False
            before = outcome.before = result = None
        if outcome.kind == "Namespace" and outcome.api_version == "v1":
            namespaces_here.add(outcome.name)
        outcome.result, outcome.object = _result(before, result), result
    return True


def _current(client: rest.Client, res: rest.Resource, outcome: Outcome) -> dict[str, Any] | None:
    try:
        return client.get(res, outcome.name, namespace=outcome.namespace)
    except rest.APIStatusError as exc:
        if exc.is_not_found:
            return None
        raise


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {
        **{k: v for k, v in obj.items() if k not in ("metadata", "status")},
        "labels": meta.get("labels") or {},
        "annotations": meta.get("annotations") or {},
    }


def _result(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Name what a write did: compare what a person wrote, not the server's bookkeeping."""
    if before is None:
        return "created"
    if after is None:
        return "configured"
    return "unchanged" if _content(before) == _content(after) else "configured"
