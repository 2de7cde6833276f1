"""Per-kind rules applied on create and update, as ``pkg/registry/<group>/<kind>/strategy.go``.

* ``prepare_for_create`` / ``prepare_for_update``: what the server resets or derives (status
  is not the client's to set on the main resource; a Job gets its controller-uid selector).
* ``validate``: the semantic checks the schema cannot express (a Deployment's selector
  must select its own template; a container needs an image), reported as ``Cause`` s with
  the offending field path.
"""

from __future__ import annotations

import copy
from typing import Any

from kubeviz.apiserver import defaults
from kubeviz.apiserver.errors import Cause
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.validation import is_dns1123_label

Obj = dict[str, Any]

WORKLOADS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"}
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def prepare_for_create(resource: Resource, obj: Obj) -> None:
    """Reset what clients may not set on create."""
    kind = resource.kind
    if kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec", {}))}
    elif resource.has_status and kind not in ("Node", "Namespace"):
        obj["status"] = {}
    if kind == "Job":
        _job_selector(obj)
    if kind == "DaemonSet":
        _daemonset_template_generation(obj, None)


def prepare_for_update(resource: Resource, new: Obj, old: Obj, *, subresource: str) -> None:
    """Keep what an update of this (sub)resource may not change."""
    if subresource == "status":
        status = new.get("status")
        annotations = (new.get("metadata") or {}).get("annotations")
        new.clear()
        new.update(copy.deepcopy(old))
        if status is not None:
            new["status"] = status
        else:
            new.pop("status", None)
        if resource.kind == "Deployment":
            # deploymentStatusStrategy resets only spec and labels: the deployment controller
            # records deployment.kubernetes.io/revision through the status subresource.
            new["metadata"].pop("annotations", None)
            if annotations:
                new["metadata"]["annotations"] = annotations
        return
    if resource.has_status:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    if resource.kind == "Service":
        _keep_service_allocations(new, old)
    if resource.kind == "DaemonSet":
        _daemonset_template_generation(new, old)
    if resource.kind == "Job":
        # The generated selector and labels are immutable; carry them over.
        spec, old_spec = new.setdefault("spec", {}), old.get("spec", {})
        if "selector" not in spec and "selector" in old_spec:
            spec["selector"] = copy.deepcopy(old_spec["selector"])
        labels = old_spec.get("template", {}).get("metadata", {}).get("labels", {})
        tlabels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        for k, v in labels.items():
            if k.startswith("batch.kubernetes.io/") or k in ("controller-uid", "job-name"):
                tlabels.setdefault(k, v)


def _daemonset_template_generation(new: Obj, old: Obj | None) -> None:
    """Keep a DaemonSet's template generation, counting template changes.

    apps/v1 carries the internal ``spec.templateGeneration`` in the
    ``deprecated.daemonset.template.generation`` annotation: 1 on create (unless the client
    set a higher one), the old value on update, plus one when the pod template changed.
    The DaemonSet controller labels its pods with it (``pod-template-generation``).
    """
    annotations = new.setdefault("metadata", {}).get("annotations") or {}
    if old is None:
        generation = max(_int_or(annotations.get(TEMPLATE_GENERATION), 0), 1)
    else:
        old_annotations = (old.get("metadata") or {}).get("annotations") or {}
        generation = _int_or(old_annotations.get(TEMPLATE_GENERATION), 1)
        template = copy.deepcopy((new.get("spec") or {}).get("template") or {})
        defaults.pod_spec(template.setdefault("spec", {}))
        if template != (old.get("spec") or {}).get("template"):
            generation += 1
    new["metadata"]["annotations"] = {**annotations, TEMPLATE_GENERATION: str(generation)}


def _int_or(value: Any, fallback: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return fallback


def _keep_service_allocations(new: Obj, old: Obj) -> None:
    """Carry the allocated ClusterIP and NodePorts over an update that leaves them out."""
    spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        if not spec.get(key) and old_spec.get(key):
            spec[key] = copy.deepcopy(old_spec[key])
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        allocated = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []
        }
        for port in spec.get("ports") or []:
            if not port.get("nodePort"):
                node_port = allocated.get((port.get("port"), port.get("protocol", "TCP")))
                if node_port:
                    port["nodePort"] = node_port


def _job_selector(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    uid = obj["metadata"]["uid"]
    name = obj["metadata"].get("name", "")
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )


def _qos_class(spec: Obj) -> str:
    """Return the pod's QoS class from its containers' requests and limits."""
    containers = spec.get("containers") or []
    if not containers:
        return "BestEffort"
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and str(req[r]) != str(lim[r])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _validate_pod_spec(spec: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(Cause("FieldValueRequired", "Required value", f"{path}.containers"))
        return causes
    seen: set[str] = set()
    for i, c in enumerate(containers):
        cpath = f"{path}.containers[{i}]"
        name = c.get("name") or ""
        if not name:
            causes.append(Cause("FieldValueRequired", "Required value", f"{cpath}.name"))
        elif not is_dns1123_label(name):
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                    "alphanumeric characters or '-', and must start and end with an alphanumeric character",
                    f"{cpath}.name",
                )
            )
        elif name in seen:
            causes.append(Cause("FieldValueDuplicate", f'Duplicate value: "{name}"', f"{cpath}.name"))
        seen.add(name)
        if not c.get("image"):
            causes.append(Cause("FieldValueRequired", "Required value", f"{cpath}.image"))
        for j, p in enumerate(c.get("ports") or []):
            port = p.get("containerPort")
            if not isinstance(port, int) or not 1 <= port <= 65535:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {port}: must be between 1 and 65535, inclusive",
                        f"{cpath}.ports[{j}].containerPort",
                    )
                )
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f'Unsupported value: "{policy}": supported values: "Always", "OnFailure", "Never"',
                f"{path}.restartPolicy",
            )
        )
    return causes


def _selector_matches_template(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        return [Cause("FieldValueRequired", "Required value", "spec.selector")]
    match_labels = selector.get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not match_labels and not selector.get("matchExpressions"):
        return [
            Cause(
                "FieldValueInvalid",
                "Invalid value: empty selector is invalid for deployment",
                "spec.selector",
            )
        ]
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return [
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_fmt_labels(labels)}: `selector` does not match template `labels`",
                "spec.template.metadata.labels",
            )
        ]
    return []


def _fmt_labels(labels: dict[str, str]) -> str:
    return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(labels.items())) + "]"


def _validate_service(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    stype = spec.get("type", "ClusterIP")
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f'Unsupported value: "{stype}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
                "spec.type",
            )
        )
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(Cause("FieldValueRequired", "Required value", "spec.ports"))
    names: set[str] = set()
    for i, p in enumerate(ports):
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {port}: must be between 1 and 65535, inclusive",
                    f"spec.ports[{i}].port",
                )
            )
        if len(ports) > 1 and not p.get("name"):
            causes.append(Cause("FieldValueRequired", "Required value", f"spec.ports[{i}].name"))
        if p.get("name"):
            if p["name"] in names:
                causes.append(
                    Cause("FieldValueDuplicate", f'Duplicate value: "{p["name"]}"', f"spec.ports[{i}].name")
                )
            names.add(p["name"])
        node_port = p.get("nodePort")
        if node_port not in (None, 0):
            if stype not in ("NodePort", "LoadBalancer"):
                causes.append(
                    Cause(
                        "FieldValueForbidden",
                        "Forbidden: may not be used when `type` is 'ClusterIP'",
                        f"spec.ports[{i}].nodePort",
                    )
                )
            elif not isinstance(node_port, int) or not 30000 <= node_port <= 32767:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {node_port}: provided port is not in the valid range. The range of valid ports is 30000-32767",
                        f"spec.ports[{i}].nodePort",
                    )
                )
    return causes


def validate(resource: Resource, obj: Obj, *, old: Obj | None = None) -> list[Cause]:
    """Return the semantic problems of ``obj`` (empty when it is valid)."""
    kind = resource.kind
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return _validate_pod_spec(spec, "spec")
    if kind in WORKLOADS or kind == "Job":
        causes = [] if kind == "Job" else _selector_matches_template(obj)
        template_spec = ((spec.get("template") or {}).get("spec")) or {}
        causes += _validate_pod_spec(template_spec, "spec.template.spec")
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            )
        if (
            old is not None
            and kind in WORKLOADS
            and (old.get("spec") or {}).get("selector") != spec.get("selector")
        ):
            causes.append(Cause("FieldValueInvalid", "Invalid value: field is immutable", "spec.selector"))
        return causes
    if kind == "CronJob":
        causes = []
        if not spec.get("schedule"):
            causes.append(Cause("FieldValueRequired", "Required value", "spec.schedule"))
        jt = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return causes + _validate_pod_spec(jt.get("spec") or {}, "spec.jobTemplate.spec.template.spec")
    if kind == "Service":
        causes = _validate_service(obj)
        if old is not None:
            old_ip = (old.get("spec") or {}).get("clusterIP")
            new_ip = spec.get("clusterIP")
            if old_ip and new_ip and old_ip != new_ip:
                causes.append(
                    Cause("FieldValueInvalid", "Invalid value: field is immutable", "spec.clusterIP")
                )
        return causes
    return []
