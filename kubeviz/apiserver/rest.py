"""The REST verbs on objects: create, get, list, update, patch, delete, deletecollection.

Mirrors ``k8s.io/apiserver/pkg/registry/generic/registry/store.go`` and the handlers in
``k8s.io/apiserver/pkg/endpoints/handlers``: decode, default, validate, admit, then one
compare-and-swap write.  Every admission step and the write share one database
transaction, so a request that fails at any step leaves nothing behind (no object, no
history row, no allocated ClusterIP).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonpatch
from django.db import transaction

from kubeviz.apiserver import admission, codec, defaults, errors, schema, storage, strategies
from kubeviz.apiserver.errors import APIError, Cause
from kubeviz.apiserver.patching import (
    ApplyConflict,
    json_merge_patch,
    record_update,
    server_side_apply,
    strategic_merge_patch,
)
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.requestinfo import RequestInfo
from kubeviz.apiserver.selectors import parse_field_selector, parse_label_selector
from kubeviz.apiserver.validation import validate_metadata, validate_object
from kubeviz.kubelet import server as kubelet_server
from kubeviz.store.models import Cluster

Obj = dict[str, Any]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # as the apiserver's name generator: no vowels
MAX_LIMIT = 10_000


@dataclass
class Call:
    """One API request on a resource, decoded."""

    cluster: Cluster
    info: RequestInfo
    resource: Resource
    params: Mapping[str, Any]
    user_agent: str = ""
    body: Any = None
    content_type: str = ""
    warnings: list[str] = field(default_factory=list)
    revision: int | None = None  # the revision this call wrote, for traces
    created: str = ""  # the name a create gave its object (the URL has none), for traces

    def param(self, name: str, default: str = "") -> str:
        value = self.params.get(name, default)
        return value if isinstance(value, str) else default

    @property
    def namespace(self) -> str:
        return self.info.namespace if self.resource.namespaced else ""


def now() -> str:
    """Return the current time as Kubernetes writes timestamps (RFC 3339, seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def field_manager(call: Call, *, default_suffix: str = "") -> str:
    """Return the field manager: the ``fieldManager`` parameter, else the client's name."""
    manager = call.param("fieldManager")
    if manager:
        if len(manager) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be more than 128 bytes")
        return manager
    agent = call.user_agent.split("/", 1)[0] or "unknown"
    return agent + default_suffix


def is_dry_run(call: Call) -> bool:
    """Tell whether a call asks for a dry run: ``?dryRun=All``, or in a delete's DeleteOptions body."""
    values = call.params.getlist("dryRun") if hasattr(call.params, "getlist") else [call.param("dryRun")]
    if call.info.verb in ("delete", "deletecollection") and isinstance(call.body, dict):
        body_values = call.body.get("dryRun") or []
        values = [*values, *(body_values if isinstance(body_values, list) else [body_values])]
    values = [v for v in values if v]
    for v in values:
        if v != "All":
            raise errors.bad_request(f'Invalid dryRun value: "{v}": supported values: "All"')
    return bool(values)


def field_validation(call: Call) -> str:
    mode = call.param("fieldValidation") or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", "Strict", "Warn"'
        )
    return mode


# --- decoding and validation ----------------------------------------------------------------


def _decode_object(call: Call, body: Any, *, name_hint: str = "") -> Obj:
    """Check kind/apiVersion against the URL, then validate and prune against the schema."""
    res = call.resource
    if not isinstance(body, dict):
        raise errors.bad_request(f"the body of the request must be a {res.kind} object")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version not in (None, "") and api_version != res.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version ({res.api_version})"
        )
    if kind not in (None, "") and kind != res.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({res.kind})"
        )
    body = dict(body)
    body["apiVersion"], body["kind"] = res.api_version, res.kind
    if not isinstance(body.get("metadata", {}), dict):
        raise errors.bad_request(f"{res.kind}.metadata must be an object")
    body.setdefault("metadata", {})
    result = validate_object(body, res.definition)
    name = body["metadata"].get("name") or name_hint
    if result.type_errors:
        summary = "; ".join(c.message for c in result.type_errors)
        raise errors.bad_request(
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: {summary}',
            result.type_errors,
        )
    if result.unknown_fields:
        mode = field_validation(call)
        if mode == "Strict":
            causes = [Cause("FieldValueInvalid", f'unknown field "{f}"', f) for f in result.unknown_fields]
            err = errors.invalid(res.kind, name, causes, res.group)
            err.message = (
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: strict decoding error: '
                + ", ".join(f'unknown field "{f}"' for f in result.unknown_fields)
            )
            raise err
        if mode == "Warn":
            call.warnings.extend(f'unknown field "{f}"' for f in result.unknown_fields)
    else:
        field_validation(call)
    return result.pruned


def _check_namespace_of(call: Call, obj: Obj) -> None:
    meta = obj["metadata"]
    if call.resource.namespaced:
        ns = meta.get("namespace")
        if ns and ns != call.info.namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = call.info.namespace
    else:
        meta.pop("namespace", None)


def _validate(call: Call, obj: Obj, *, old: Obj | None) -> None:
    causes = validate_metadata(obj, resource=call.resource, is_create=old is None)
    causes += strategies.validate(call.resource, obj, old=old)
    if causes:
        raise errors.invalid(call.resource.kind, obj["metadata"].get("name", ""), causes, call.resource.group)


def _validate_secret(obj: Obj) -> None:
    for k, v in (obj.get("data") or {}).items():
        try:
            base64.b64decode(v or "", validate=True)
        except (ValueError, TypeError) as exc:
            raise errors.bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data for key {k!r}'
            ) from exc


def _spec_changed(old: Obj, new: Obj) -> bool:
    strip = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in strip} != {
        k: v for k, v in new.items() if k not in strip
    }


def _same_content(old: Obj, new: Obj) -> bool:
    """Tell whether a write would change nothing but bookkeeping (a no-op update)."""
    a, b = copy.deepcopy(old), copy.deepcopy(new)
    for o in (a, b):
        o["metadata"].pop("resourceVersion", None)
        o["metadata"].pop("managedFields", None)
    return a == b


# --- create ---------------------------------------------------------------------------------


def _generate_name(prefix: str) -> str:
    return prefix + "".join(random.choice(_NAME_CHARS) for _ in range(5))


def create(call: Call) -> tuple[int, Obj]:
    obj = _decode_object(call, call.body)
    _check_namespace_of(call, obj)
    return _create_object(call, obj, manager=field_manager(call))


def _create_object(
    call: Call, obj: Obj, *, manager: str, applied: Obj | None = None, force: bool = False
) -> tuple[int, Obj]:
    res = call.resource
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = _generate_name(meta["generateName"])
    for k in (
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ):
        meta.pop(k, None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    if res.kind in defaults.GENERATION_KINDS:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    strategies.prepare_for_create(res, obj)
    defaults.apply(res.kind, obj)
    _validate(call, obj, old=None)
    if res.kind == "Secret":
        _validate_secret(obj)
    dry_run = is_dry_run(call)
    stamp = now()
    root = schema.definition(res.definition)
    if applied is not None:
        obj = _apply_managed(obj, applied, manager=manager, root=root, stamp=stamp)
    else:
        obj = record_update(None, obj, manager=manager, schema=root, now=stamp, exclude_status=res.has_status)
    with transaction.atomic():
        admission.check_namespace(call.cluster, res, call.info.namespace)
        if res.kind == "Service":
            admission.allocate_service(call.cluster, obj, now=stamp, new_uid=uuid.uuid4, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
            return 201, obj
        stored = storage.create(call.cluster, res, obj)
    call.revision = int(stored["metadata"]["resourceVersion"])
    call.created = stored["metadata"].get("name", "")
    return 201, stored


def _apply_managed(obj: Obj, applied: Obj, *, manager: str, root: Any, stamp: str) -> Obj:
    """Record an Apply manager on a freshly created object."""
    ssa = server_side_apply(
        None, applied, manager=manager, force=True, schema=root, now=stamp, exclude_status=True
    )
    obj["metadata"]["managedFields"] = ssa["metadata"].get("managedFields", [])
    return obj


# --- get and list ---------------------------------------------------------------------------


def get(call: Call) -> tuple[int, Obj]:
    obj = storage.get(call.cluster, call.resource, call.namespace, call.info.name)
    sub = call.info.subresource
    if sub == "scale":
        return 200, to_scale(call.resource, obj)
    return 200, obj


def _continue_token(revision: int, last: Obj) -> str:
    meta = last["metadata"]
    raw = json.dumps(
        {"v": "meta.k8s.io/v1", "rv": revision, "start": [meta.get("namespace", ""), meta["name"]]}
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(raw["rv"]), (str(raw["start"][0]), str(raw["start"][1]))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise errors.bad_request(f"continue key is not valid: {exc}") from exc


def _limit(call: Call) -> int | None:
    text = call.param("limit")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError as exc:
        raise errors.bad_request(f'limit: Invalid value: "{text}": must be an integer') from exc
    if value < 0:
        raise errors.bad_request(f"limit: Invalid value: {value}: must be greater than or equal to 0")
    return value or None


def matcher(call: Call) -> Any:
    """Return a predicate over objects from the label and field selectors of a call."""
    labels = parse_label_selector(call.param("labelSelector"))
    fields = parse_field_selector(call.param("fieldSelector"), resource=call.resource)

    def matches(obj: Obj) -> bool:
        return labels.matches(obj.get("metadata", {}).get("labels") or {}) and fields.matches(obj)

    if labels.empty and fields.empty:
        return _everything, fields
    return matches, fields


def _everything(obj: Obj) -> bool:
    return True


def list_objects(call: Call) -> tuple[int, Obj]:
    res = call.resource
    matches, fields = matcher(call)
    limit = _limit(call)
    token = call.param("continue")
    rv_param, rv_match = call.param("resourceVersion"), call.param("resourceVersionMatch")
    at: int | None = None
    after: tuple[str, str] | None = None
    if rv_match and rv_match not in ("Exact", "NotOlderThan"):
        raise errors.bad_request(f'resourceVersionMatch: Unsupported value: "{rv_match}"')
    if token:
        at, after = _read_continue(token)
    elif rv_param and rv_param != "0":
        try:
            requested = int(rv_param)
        except ValueError as exc:
            raise errors.bad_request(
                f'resourceVersion: Invalid value: "{rv_param}": must be an integer'
            ) from exc
        if rv_match == "Exact":
            at = requested
    if at is not None:
        current, _ = storage.revision(call.cluster)
        if at >= current:
            at = None if at == current else at
    name = fields.exact("metadata.name") or ""
    items_iter, revision = storage.list_objects(
        call.cluster, res, namespace=call.info.namespace, name=name, after=after, at=at
    )
    items: list[Obj] = []
    more = False
    for obj in items_iter:
        if not matches(obj):
            continue
        if limit is not None and len(items) >= limit:
            more = True
            break
        items.append(obj)
    meta: Obj = {"resourceVersion": str(revision)}
    if more:
        meta["continue"] = _continue_token(revision, items[-1])
    return 200, {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta, "items": items}


# --- update, patch --------------------------------------------------------------------------


def _finish_update(
    call: Call, old: Obj, new: Obj, *, manager: str, operation_obj: Obj | None = None
) -> Obj | None:
    """Apply server rules to a candidate new object; None means "nothing changed"."""
    res = call.resource
    sub = call.info.subresource
    meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
    if meta.get("name") not in (None, "", old_meta["name"]):
        raise errors.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({old_meta['name']})"
        )
    if meta.get("uid") not in (None, "", old_meta.get("uid")):
        raise errors.conflict(
            res.resource,
            old_meta["name"],
            res.group,
            "Precondition failed: UID in precondition does not match",
        )
    for k in (
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ):
        if k in old_meta:
            meta[k] = old_meta[k]
        else:
            meta.pop(k, None)
    if old_meta.get("deletionTimestamp"):
        # Finalizers may only be removed from an object being deleted, not added.
        added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
        if added:
            raise errors.invalid(
                res.kind,
                old_meta["name"],
                [
                    Cause(
                        "FieldValueForbidden",
                        "Forbidden: no new finalizers can be added if the object is being deleted",
                        "metadata.finalizers",
                    )
                ],
                res.group,
            )
    strategies.prepare_for_update(res, new, old, subresource=sub)
    defaults.apply(res.kind, new)
    new["metadata"]["managedFields"] = old_meta.get("managedFields", [])
    if _same_content(old, new):
        return None
    if res.kind in defaults.GENERATION_KINDS and sub != "status" and _spec_changed(old, new):
        new["metadata"]["generation"] = int(old_meta.get("generation", 1)) + 1
    _validate(call, new, old=old)
    if res.kind == "Secret":
        _validate_secret(new)
    if operation_obj is None:
        new = record_update(
            old,
            new,
            manager=manager,
            schema=schema.definition(res.definition),
            now=now(),
            subresource=sub,
            exclude_status=res.has_status and sub != "status",
        )
    return new


def _write(call: Call, old: Obj, new: Obj | None, *, expected: int | None) -> tuple[int, Obj]:
    """Store an update (or finish a deletion whose last finalizer just went)."""
    if new is None:
        return 200, old
    if is_dry_run(call):
        return 200, new
    if _deletion_complete(call.resource, new):
        stored = storage.delete(call.cluster, call.resource, new, expected_revision=expected)
        _after_delete(call, stored)
    else:
        stored = storage.update(call.cluster, call.resource, new, expected_revision=expected)
    call.revision = int(stored["metadata"]["resourceVersion"])
    return 200, stored


def _deletion_complete(res: Resource, obj: Obj) -> bool:
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if res.kind == "Namespace" and (obj.get("spec") or {}).get("finalizers"):
        return False
    return not meta.get("deletionGracePeriodSeconds")


def update(call: Call) -> tuple[int, Obj]:
    if call.info.subresource == "scale":
        return _update_scale(call, lambda scale: call.body)
    if call.info.subresource == "finalize" and call.resource.kind != "Namespace":
        raise errors.not_found(call.resource.resource, call.info.name, call.resource.group)
    obj = _decode_object(call, call.body, name_hint=call.info.name)
    _check_namespace_of(call, obj)
    if obj["metadata"].get("name") and obj["metadata"]["name"] != call.info.name:
        raise errors.bad_request(
            f"the name of the object ({obj['metadata']['name']}) does not match the name on the URL ({call.info.name})"
        )
    rv = obj["metadata"].get("resourceVersion")
    expected: int | None = None
    if rv:
        try:
            expected = int(rv)
        except ValueError as exc:
            raise errors.bad_request(
                f'metadata.resourceVersion: Invalid value: "{rv}": must be an integer'
            ) from exc
    old = storage.get(call.cluster, call.resource, call.namespace, call.info.name)
    if expected is not None and int(old["metadata"]["resourceVersion"]) != expected:
        raise errors.conflict(call.resource.resource, call.info.name, call.resource.group)
    if call.info.subresource == "finalize":
        new = copy.deepcopy(old)
        new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
        candidate = _finish_update(call, old, new, manager=field_manager(call))
    else:
        candidate = _finish_update(call, old, obj, manager=field_manager(call))
    return _write(call, old, candidate, expected=int(old["metadata"]["resourceVersion"]))


def _patched(call: Call, current: Obj, patch: Any, kind: str) -> Obj:
    """Apply a JSON, merge or strategic merge patch to a copy of ``current``."""
    res = call.resource
    try:
        if kind == codec.JSON_PATCH:
            if not isinstance(patch, list):
                raise errors.bad_request("json patch must be a list of operations")
            result = jsonpatch.apply_patch(current, patch)
        elif kind == codec.MERGE_PATCH:
            result = json_merge_patch(current, patch)
        else:
            if not isinstance(patch, dict):
                raise errors.bad_request("strategic merge patch must be an object")
            result = strategic_merge_patch(current, patch, schema.definition(res.definition))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise errors.invalid(
            res.kind,
            call.info.name,
            [
                Cause(
                    "FieldValueInvalid",
                    f"the server rejected our request due to an error in our request: {exc}",
                )
            ],
            res.group,
        ) from exc
    except ValueError as exc:
        raise errors.bad_request(f"error applying patch: {exc}") from exc
    if not isinstance(result, dict):
        raise errors.bad_request("the patch did not produce an object")
    return result


def patch(call: Call) -> tuple[int, Obj]:
    kind = codec.media_type(call.content_type)
    if kind not in codec.PATCH_TYPES:
        raise errors.unsupported_media_type(kind)
    if call.info.subresource == "scale":
        return _update_scale(call, lambda scale: _patch_plain(scale, call.body, kind))
    if kind == codec.APPLY_PATCH:
        return _apply(call)
    manager = field_manager(call)
    retries = 0
    while True:
        old = storage.get(call.cluster, call.resource, call.namespace, call.info.name)
        patched = _patched(call, copy.deepcopy(old), call.body, kind)
        obj = _decode_object(call, patched, name_hint=call.info.name)
        _check_namespace_of(call, obj)
        expected = int(old["metadata"]["resourceVersion"])
        rv = (patched.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(call.resource.resource, call.info.name, call.resource.group)
        candidate = _finish_update(call, old, obj, manager=manager)
        try:
            return _write(call, old, candidate, expected=expected)
        except APIError as exc:
            # A concurrent writer got in first; a patch without a resourceVersion retries.
            if exc.code != 409 or exc.reason != "Conflict" or rv or retries >= storage.UPDATE_RETRIES:
                raise
            retries += 1


def _patch_plain(obj: Obj, patch: Any, kind: str) -> Obj:
    if kind == codec.JSON_PATCH:
        return jsonpatch.apply_patch(obj, patch)
    return json_merge_patch(obj, patch)


def _apply(call: Call) -> tuple[int, Obj]:
    """Server-side apply: create when missing, else merge with field ownership."""
    res = call.resource
    manager = call.param("fieldManager")
    if not manager:
        raise errors.bad_request("PATCH requests with server-side apply must specify a fieldManager")
    force = call.param("force") in ("true", "True", "1")
    applied = _decode_object(call, call.body, name_hint=call.info.name)
    applied_meta = applied["metadata"]
    if applied_meta.get("name") not in (None, "", call.info.name):
        raise errors.bad_request(
            f"the name of the object ({applied_meta.get('name')}) does not match the name on the URL ({call.info.name})"
        )
    applied_meta["name"] = call.info.name
    _check_namespace_of(call, applied)
    root = schema.definition(res.definition)
    for _ in range(storage.UPDATE_RETRIES):
        old = storage.get_or_none(call.cluster, res, call.namespace, call.info.name)
        if old is None:
            try:
                return _create_object(
                    call, copy.deepcopy(applied), manager=manager, applied=applied, force=force
                )
            except APIError as exc:
                if exc.reason == "AlreadyExists":
                    continue
                raise
        try:
            merged = server_side_apply(
                old,
                applied,
                manager=manager,
                force=force,
                schema=root,
                now=now(),
                subresource=call.info.subresource,
                exclude_status=res.has_status and call.info.subresource != "status",
            )
        except ApplyConflict as exc:
            raise APIError(
                409,
                "Conflict",
                str(exc),
                call.info.name,
                res.group,
                res.resource,
                [Cause("FieldManagerConflict", f'conflict with "{m}"', path) for m, path in exc.conflicts],
            ) from exc
        managed = merged["metadata"].get("managedFields", [])
        candidate = _finish_update(call, old, merged, manager=manager, operation_obj=applied)
        if candidate is not None:
            candidate["metadata"]["managedFields"] = managed
        elif managed != old["metadata"].get("managedFields", []):
            candidate = copy.deepcopy(old)
            candidate["metadata"]["managedFields"] = managed
        try:
            return _write(call, old, candidate, expected=int(old["metadata"]["resourceVersion"]))
        except APIError as exc:
            if exc.reason != "Conflict":
                raise
    raise errors.conflict(res.resource, call.info.name, res.group, "too many concurrent updates; try again")


# --- scale ----------------------------------------------------------------------------------


def to_scale(res: Resource, obj: Obj) -> Obj:
    """Return the autoscaling/v1 Scale view of a workload."""
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    match = selector.get("matchLabels") or {}
    parts = [f"{k}={v}" for k, v in sorted(match.items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        parts.append(
            {
                "In": f"{key} in ({','.join(values)})",
                "NotIn": f"{key} notin ({','.join(values)})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }.get(op, "")
        )
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(p for p in parts if p),
        },
    }


def _update_scale(call: Call, change: Any) -> tuple[int, Obj]:
    res = call.resource
    if "scale" not in res.subresources:
        raise errors.not_found(res.resource, call.info.name, res.group)
    old = storage.get(call.cluster, res, call.namespace, call.info.name)
    scale = change(to_scale(res, old))
    if not isinstance(scale, dict):
        raise errors.bad_request("the body of the request must be a Scale object")
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            "Scale",
            call.info.name,
            [
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            ],
            "autoscaling",
        )
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    if rv and rv != old["metadata"]["resourceVersion"]:
        raise errors.conflict(res.resource, call.info.name, res.group)
    new = copy.deepcopy(old)
    new.setdefault("spec", {})["replicas"] = replicas
    saved = call.info.subresource
    call.info = RequestInfo(**{**call.info.__dict__, "subresource": ""})
    try:
        candidate = _finish_update(call, old, new, manager=field_manager(call))
        _, stored = _write(call, old, candidate, expected=int(old["metadata"]["resourceVersion"]))
    finally:
        call.info = RequestInfo(**{**call.info.__dict__, "subresource": saved})
    return 200, to_scale(res, stored)


# --- delete ---------------------------------------------------------------------------------


@dataclass
class DeleteOptions:
    grace: int | None = None
    policy: str = ""
    uid: str | None = None
    revision: str | None = None


def delete_options(call: Call) -> DeleteOptions:
    body = call.body if isinstance(call.body, dict) else {}
    opts = DeleteOptions()
    grace = body.get("gracePeriodSeconds", call.param("gracePeriodSeconds") or None)
    if grace is not None:
        try:
            opts.grace = int(grace)
        except (TypeError, ValueError) as exc:
            raise errors.bad_request(f"gracePeriodSeconds: Invalid value: {grace!r}") from exc
    opts.policy = body.get("propagationPolicy") or call.param("propagationPolicy")
    orphan = body.get("orphanDependents", call.param("orphanDependents") or None)
    if not opts.policy and orphan in (True, "true"):
        opts.policy = "Orphan"
    if opts.policy and opts.policy not in ("Orphan", "Background", "Foreground"):
        raise errors.bad_request(
            f'propagationPolicy: Unsupported value: "{opts.policy}": supported values: "Background", "Foreground", "Orphan"'
        )
    pre = body.get("preconditions") or {}
    opts.uid, opts.revision = pre.get("uid"), pre.get("resourceVersion")
    return opts


def _pod_grace(obj: Obj, requested: int | None) -> int:
    """Return the grace period a pod gets: none unless a kubelet runs it."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    grace = spec.get("terminationGracePeriodSeconds", 30) if requested is None else requested
    return max(0, int(grace))


def delete(call: Call) -> tuple[int, Obj]:
    """Delete one object.  A write that lands between the read and the delete is not the
    client's conflict: without preconditions the delete is tried again on the new version,
    as the storage layer's guaranteed update does upstream."""
    opts = delete_options(call)
    for _ in range(storage.UPDATE_RETRIES):
        obj = storage.get(call.cluster, call.resource, call.namespace, call.info.name)
        try:
            return _delete_one(call, obj, opts)
        except errors.APIError as exc:
            if exc.code != 409 or opts.uid or opts.revision:
                raise
    res = call.resource
    raise errors.conflict(res.resource, call.info.name, res.group, "too many concurrent updates; try again")


def _delete_one(call: Call, obj: Obj, opts: DeleteOptions) -> tuple[int, Obj]:
    res = call.resource
    meta = obj["metadata"]
    if opts.uid and opts.uid != meta.get("uid"):
        raise errors.conflict(
            res.resource,
            meta["name"],
            res.group,
            f"Precondition failed: UID in precondition: {opts.uid}, UID in object meta: {meta.get('uid')}",
        )
    if opts.revision and opts.revision != meta.get("resourceVersion"):
        raise errors.conflict(
            res.resource,
            meta["name"],
            res.group,
            f"Precondition failed: ResourceVersion in precondition: {opts.revision}, ResourceVersion in object meta: {meta.get('resourceVersion')}",
        )
    grace = _pod_grace(obj, opts.grace) if res.kind == "Pod" else 0
    finalizers = list(meta.get("finalizers") or [])
    if opts.policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    elif opts.policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    pending = (
        bool(finalizers)
        or grace > 0
        or (res.kind == "Namespace" and (obj.get("spec") or {}).get("finalizers"))
    )
    if not pending:
        if is_dry_run(call):
            return 200, obj
        with transaction.atomic():
            stored = storage.delete(call.cluster, res, obj, expected_revision=int(meta["resourceVersion"]))
            _after_delete(call, stored)
        call.revision = int(stored["metadata"]["resourceVersion"])
        return 200, _success_status(res, stored)
    new = copy.deepcopy(obj)
    nmeta = new["metadata"]
    stamp = datetime.now(UTC) + timedelta(seconds=grace)
    if nmeta.get("deletionTimestamp"):
        # A repeated delete may only shorten the grace period.
        current = _parse_time(nmeta["deletionTimestamp"])
        if stamp < current:
            nmeta["deletionTimestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
            nmeta["deletionGracePeriodSeconds"] = grace
    else:
        nmeta["deletionTimestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        nmeta["deletionGracePeriodSeconds"] = grace
    nmeta["finalizers"] = finalizers
    if res.kind == "Namespace":
        new.setdefault("status", {})["phase"] = "Terminating"
    if res.kind in defaults.GENERATION_KINDS and not obj["metadata"].get("deletionTimestamp"):
        nmeta["generation"] = int(nmeta.get("generation", 1)) + 1
    if new == obj:
        return 202, obj
    if is_dry_run(call):
        return 202, new
    if _deletion_complete(res, new):
        with transaction.atomic():
            stored = storage.delete(call.cluster, res, new, expected_revision=int(meta["resourceVersion"]))
            _after_delete(call, stored)
        call.revision = int(stored["metadata"]["resourceVersion"])
        return 200, _success_status(res, stored)
    stored = storage.update(call.cluster, res, new, expected_revision=int(meta["resourceVersion"]))
    call.revision = int(stored["metadata"]["resourceVersion"])
    return 202, stored


def _after_delete(call: Call, obj: Obj) -> None:
    if call.resource.kind == "Service":
        admission.release_service(call.cluster, obj)


def _success_status(res: Resource, obj: Obj) -> Obj:
    meta = obj["metadata"]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": meta["name"], "group": res.group, "kind": res.resource, "uid": meta.get("uid")},
    }


def delete_collection(call: Call) -> tuple[int, Obj]:
    opts = delete_options(call)
    _, listed = list_objects(call)
    deleted = []
    for obj in listed["items"]:
        try:
            _, out = _delete_one(call, obj, opts)
        except APIError as exc:
            if exc.code in (404, 409):
                continue
            raise
        deleted.append(obj if out.get("kind") == "Status" else out)
    res = call.resource
    return 200, {
        "kind": f"{res.kind}List",
        "apiVersion": res.api_version,
        "metadata": {"resourceVersion": listed["metadata"]["resourceVersion"]},
        "items": deleted,
    }


# --- pods/binding, pods/log -----------------------------------------------------------------


def bind(call: Call) -> tuple[int, Obj]:
    """Assign a pod to a node (what kube-scheduler does after choosing one)."""
    body = call.body if isinstance(call.body, dict) else {}
    target = body.get("target") or {}
    node = target.get("name")
    if not node:
        raise errors.invalid(
            "Binding", call.info.name, [Cause("FieldValueRequired", "Required value", "target.name")]
        )
    if target.get("kind") not in (None, "", "Node"):
        raise errors.invalid(
            "Binding",
            call.info.name,
            [Cause("FieldValueNotSupported", 'Unsupported value: must be "Node"', "target.kind")],
        )
    res = call.resource

    def assign(pod: Obj) -> Obj:
        if pod["metadata"].get("deletionTimestamp"):
            raise errors.conflict(
                "pods/binding",
                call.info.name,
                "",
                f"pod {call.info.name} is being deleted, cannot be assigned to a host",
            )
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise errors.conflict(
                "pods/binding",
                call.info.name,
                "",
                f'pod {call.info.name} is already assigned to node "{current}"',
            )
        pod["spec"]["nodeName"] = node
        conditions = [
            c
            for c in (pod.setdefault("status", {}).get("conditions") or [])
            if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now()}
        )
        pod["status"]["conditions"] = conditions
        return pod

    if is_dry_run(call):
        assign(storage.get(call.cluster, res, call.namespace, call.info.name))
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    _, stored = storage.guaranteed_update(call.cluster, res, call.namespace, call.info.name, assign)
    assert stored is not None
    call.revision = int(stored["metadata"]["resourceVersion"])
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def pod_log(call: Call) -> str:
    """Return a container's log, or the Kubernetes error for a container that has none yet."""
    pod = storage.get(call.cluster, call.resource, call.namespace, call.info.name)
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    name = call.param("container")
    if not name:
        if len(containers) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {call.info.name}, choose one of: [{' '.join(containers)}]"
            )
        name = containers[0]
    if name not in containers:
        raise errors.bad_request(f"container {name} is not valid for pod {call.info.name}")
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    state = (statuses.get(name) or {}).get("state") or {}
    previous = call.param("previous") in ("true", "1")
    if not previous and "running" not in state and "terminated" not in state:
        reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
        raise errors.bad_request(
            f'container "{name}" in pod "{call.info.name}" is waiting to start: {reason}'
        )
    # The apiserver asks the kubelet of the pod's node, as it does through /containerLogs.
    try:
        lines = kubelet_server.container_log(
            cluster=call.cluster.name,
            node=(pod.get("spec") or {}).get("nodeName") or "",
            pod_uid=(pod.get("metadata") or {}).get("uid", ""),
            container=name,
            previous=previous,
        )
    except kubelet_server.NoPreviousContainer:
        raise errors.bad_request(
            f'previous terminated container "{name}" in pod "{call.info.name}" not found'
        ) from None
    tail = call.param("tailLines")
    if tail and tail.isdigit():
        lines = lines[-int(tail) :] if int(tail) else []
    stamps = call.param("timestamps") in ("true", "1")
    return "".join(f"{ts} {line}\n" if stamps else f"{line}\n" for ts, line in lines)
