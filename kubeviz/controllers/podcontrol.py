"""Creating and deleting a controller's pods, with the events upstream records.

Mirrors ``RealPodControl`` of ``pkg/controller/controller_utils.go``: a pod is built from the
owner's template (``GetPodFromTemplate``), created with ``generateName: <owner>-``, and each
create or delete is reported as a ``SuccessfulCreate``/``FailedCreate`` or
``SuccessfulDelete``/``FailedDelete`` event on the owner.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubeviz.client.events import EventRecorder
from kubeviz.client.rest import PODS, APIStatusError, Client
from kubeviz.controllers.objects import meta, new_controller_ref

Obj = dict[str, Any]


def pod_from_template(
    template: Mapping[str, Any],
    *,
    owner: Mapping[str, Any],
    generate_name: str | None = None,
    name: str | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> Obj:
    """Return a new Pod built from a pod template and controlled by ``owner``."""
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    pod_meta: Obj = {
        "namespace": meta(owner)["namespace"],
        "labels": labels,
        "ownerReferences": [new_controller_ref(owner)],
    }
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        pod_meta["finalizers"] = list(tmeta["finalizers"])
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = generate_name or f"{meta(owner)['name']}-"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def create_pod(client: Client, events: EventRecorder, *, owner: Mapping[str, Any], pod: Obj) -> Obj:
    """Create a pod for ``owner`` and record the event; re-raise a failure after recording it."""
    try:
        created = client.create(PODS, pod, namespace=meta(owner)["namespace"])
    except APIStatusError as exc:
        if not exc.is_already_exists():
            events.warning(owner, "FailedCreate", f"Error creating: {exc.message}")
        raise
    events.normal(owner, "SuccessfulCreate", f"Created pod: {meta(created)['name']}")
    return created


def delete_pod(
    client: Client, events: EventRecorder, *, owner: Mapping[str, Any], pod: Mapping[str, Any]
) -> bool:
    """Delete one of ``owner``'s pods; return False if it was already gone."""
    name = meta(pod)["name"]
    try:
        client.delete(PODS, name, namespace=meta(pod)["namespace"])
    except APIStatusError as exc:
        if exc.is_not_found():
            return False
        events.warning(owner, "FailedDelete", f"Error deleting: {exc.message}")
        raise
    events.normal(owner, "SuccessfulDelete", f"Deleted pod: {name}")
    return True
