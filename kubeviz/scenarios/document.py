"""The scenario document: one YAML file that tells a cluster story.

```yaml
apiVersion: kubeviz.io/v1
kind: Scenario
metadata: {name: deployment-journey}
spec:
  title: A Deployment's journey
  description: Markdown, shown before the cluster starts.
  topology: {masters: 1, workers: 2, cni: flannel, proxyMode: iptables, mastersSchedulable: false, speed: 10}
  objects: [ ...manifests, created when the cluster starts... ]
  steps:                       # in time order; ``at`` is seconds after the cluster starts
  - {at: 5, note: "...", apply: [ ...manifests... ]}
  - {at: 20, note: "...", scale: {kind: Deployment, name: web, replicas: 5}}
  - {at: 30, note: "...", delete: [{apiVersion: v1, kind: Pod, name: web-0}]}
  - {at: 40, note: "...", stop: {machine: worker-2}}       # or {machine, component}
  - {at: 60, note: "...", start: {machine: worker-2}}
  - {at: 70, note: "...", pause: true}                     # waits for the viewer to continue
  expect:                      # the end state the story reaches
  - {apiVersion: apps/v1, kind: Deployment, name: web, field: status.readyReplicas, equals: 3}
```

Contract: ``parse(text)`` returns the normalized document (defaults filled in, key order
fixed) or raises ``DocumentInvalid`` whose causes name each bad field the way Kubernetes
does (``spec.steps[2].at``).  ``dump(doc)`` is the canonical YAML; ``parse(dump(doc)) == doc``,
so a scenario downloads and uploads again unchanged.  Manifests inside are only checked for
their shape here; the apiserver validates them when the scenario runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubeviz.web.manifests import ManifestError, load_documents

API_VERSION = "kubeviz.io/v1"
KIND = "Scenario"
MAX_BYTES = 1024 * 1024
MAX_OBJECTS = 100
MAX_STEPS = 100
MAX_AT = 3600
MAX_WORKERS = 10
CNIS = ("flannel", "calico", "cilium")
PROXY_MODES = ("iptables", "ipvs")
ACTIONS = ("apply", "delete", "scale", "stop", "start", "pause")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
TOPOLOGY_DEFAULTS: dict[str, Any] = {
    "masters": 1, "workers": 2, "cni": "flannel", "proxyMode": "iptables", "mastersSchedulable": False, "speed": 10.0,
}  # fmt: skip


@dataclass
class DocumentInvalid(Exception):
    causes: list[dict[str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "scenario is invalid: " + "; ".join(f"{c['field']}: {c['message']}" for c in self.causes)

    def __str__(self) -> str:
        return self.message


class _Check:
    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []

    def fail(self, path: str, message: str, reason: str = "FieldValueInvalid") -> None:
        self.causes.append({"reason": reason, "field": path, "message": message})

    def text(self, value: Any, path: str, *, limit: int, required: bool = False) -> str:
        if value is None or value == "":
            if required:
                self.fail(path, "Required value", "FieldValueRequired")
            return ""
        if not isinstance(value, str):
            self.fail(path, "must be text")
            return ""
        if len(value) > limit:
            self.fail(path, f"must be at most {limit} characters (it is {len(value)})", "FieldValueTooLong")
        return value

    def number(self, value: Any, path: str, *, low: float, high: float, whole: bool = True) -> Any:
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or not low <= value <= high:
            self.fail(path, f"must be a {'whole ' if whole else ''}number from {low:g} to {high:g}")
        return value


def _manifests(check: _Check, raw: Any, path: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.fail(path, "must be a list of Kubernetes objects")
        return []
    if len(raw) > MAX_OBJECTS:
        check.fail(path, f"at most {MAX_OBJECTS} objects", "TooMany")
    for i, obj in enumerate(raw):
        if not isinstance(obj, dict):
            check.fail(f"{path}[{i}]", "must be a Kubernetes object (apiVersion, kind, metadata.name)")
            continue
        try:
            load_documents(yaml.safe_dump(obj), max_documents=1)
        except ManifestError as exc:
            check.fail(f"{path}[{i}].{exc.field or 'metadata'}", exc.message.split(": ", 1)[-1])
    return [o for o in raw if isinstance(o, dict)]


def _ref(check: _Check, raw: Any, path: str, *, replicas: bool = False) -> dict[str, Any]:
    if not isinstance(raw, dict):
        check.fail(path, "must name an object: {apiVersion, kind, namespace, name}")
        return {}
    out = {
        "apiVersion": raw.get("apiVersion")
        or (
            "apps/v1" if raw.get("kind") in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet") else "v1"
        ),
        "kind": check.text(raw.get("kind"), f"{path}.kind", limit=63, required=True),
        "namespace": check.text(raw.get("namespace") or "default", f"{path}.namespace", limit=63),
        "name": check.text(raw.get("name"), f"{path}.name", limit=253, required=True),
    }
    if replicas:
        out["replicas"] = check.number(raw.get("replicas"), f"{path}.replicas", low=0, high=100)
    return out


def _machine(check: _Check, raw: Any, path: str) -> dict[str, Any]:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("machine"), str)
        or not _LABEL.match(raw["machine"])
    ):
        check.fail(f"{path}.machine", "must name a machine, such as worker-2")
        return {}
    out = {"machine": raw["machine"]}
    if raw.get("component") is not None:
        out["component"] = check.text(raw["component"], f"{path}.component", limit=63)
    return out


def _step(check: _Check, raw: Any, path: str, previous: float) -> dict[str, Any]:
    if not isinstance(raw, dict):
        check.fail(path, "must be a step: {at, note, and one of " + ", ".join(ACTIONS) + "}")
        return {}
    unknown = sorted(set(raw) - {"at", "note", *ACTIONS})
    for key in unknown:
        check.fail(
            f"{path}.{key}", f'unknown field "{key}"; a step has at, note and one of {", ".join(ACTIONS)}'
        )
    at = raw.get("at", previous)
    check.number(at, f"{path}.at", low=0, high=MAX_AT, whole=False)
    if isinstance(at, int | float) and not isinstance(at, bool) and at < previous:
        check.fail(
            f"{path}.at", f"steps run in time order: {at:g} comes before the previous step's {previous:g}"
        )
    step: dict[str, Any] = {"at": at, "note": check.text(raw.get("note"), f"{path}.note", limit=4000)}
    chosen = [a for a in ACTIONS if a in raw]
    if len(chosen) > 1:
        check.fail(path, f"a step does one thing; this one has {', '.join(chosen)}")
    for action in chosen[:1]:
        value = raw[action]
        if action == "apply":
            step["apply"] = _manifests(check, value, f"{path}.apply")
        elif action == "delete":
            items = value if isinstance(value, list) else [value]
            step["delete"] = [_ref(check, v, f"{path}.delete[{i}]") for i, v in enumerate(items)]
        elif action == "scale":
            step["scale"] = _ref(check, value, f"{path}.scale", replicas=True)
        elif action in ("stop", "start"):
            step[action] = _machine(check, value, f"{path}.{action}")
        elif value is not True:
            check.fail(f"{path}.pause", "must be true")
        else:
            step["pause"] = True
    if not chosen and not step["note"]:
        check.fail(path, "an empty step: give it a note, an action, or both")
    return step


def _expect(check: _Check, raw: Any, path: str) -> dict[str, Any]:
    ref = _ref(check, raw, path)
    if not isinstance(raw, dict):
        return ref
    ref["field"] = check.text(raw.get("field"), f"{path}.field", limit=200, required=True)
    if "equals" not in raw:
        check.fail(f"{path}.equals", "Required value", "FieldValueRequired")
    ref["equals"] = raw.get("equals")
    return ref


def _topology(check: _Check, raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.fail("spec.topology", "must be a mapping")
        raw = {}
    for key in sorted(set(raw) - set(TOPOLOGY_DEFAULTS)):
        check.fail(f"spec.topology.{key}", f'unknown field "{key}"; known: {", ".join(TOPOLOGY_DEFAULTS)}')
    topo = {k: raw.get(k, v) for k, v in TOPOLOGY_DEFAULTS.items()}
    check.number(topo["masters"], "spec.topology.masters", low=1, high=5)
    if isinstance(topo["masters"], int) and topo["masters"] % 2 == 0:
        check.fail("spec.topology.masters", "must be odd (1, 3 or 5): etcd needs a majority to agree")
    check.number(topo["workers"], "spec.topology.workers", low=0, high=MAX_WORKERS)
    if topo["cni"] not in CNIS:
        check.fail("spec.topology.cni", f"must be one of {', '.join(CNIS)}")
    if topo["proxyMode"] not in PROXY_MODES:
        check.fail("spec.topology.proxyMode", f"must be one of {', '.join(PROXY_MODES)}")
    if not isinstance(topo["mastersSchedulable"], bool):
        check.fail("spec.topology.mastersSchedulable", "must be true or false")
    check.number(topo["speed"], "spec.topology.speed", low=0.1, high=100, whole=False)
    if isinstance(topo["speed"], int) and not isinstance(topo["speed"], bool):
        topo["speed"] = float(topo["speed"])
    return topo


def normalize(raw: Any) -> dict[str, Any]:
    """Return the checked, normalized document; ``DocumentInvalid`` names every bad field."""
    check = _Check()
    if not isinstance(raw, dict):
        raise DocumentInvalid(
            [{"reason": "FieldValueInvalid", "field": "", "message": "a scenario is a YAML mapping"}]
        )
    if raw.get("apiVersion") != API_VERSION:
        check.fail("apiVersion", f'must be "{API_VERSION}"')
    if raw.get("kind") != KIND:
        check.fail("kind", f'must be "{KIND}"')
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    name = meta.get("name", "")
    if not isinstance(name, str) or not _LABEL.match(name) or len(name) > 40:
        check.fail(
            "metadata.name", "must be a lowercase name of up to 40 letters, digits and '-', such as my-story"
        )
    spec = raw.get("spec") if isinstance(raw.get("spec"), dict) else {}
    if not isinstance(raw.get("spec"), dict):
        check.fail("spec", "Required value", "FieldValueRequired")
    out_spec: dict[str, Any] = {
        "title": check.text(spec.get("title"), "spec.title", limit=200, required=True),
        "description": check.text(spec.get("description"), "spec.description", limit=20_000),
        "topology": _topology(check, spec.get("topology")),
        "objects": _manifests(check, spec.get("objects"), "spec.objects"),
    }
    raw_steps = spec.get("steps") or []
    if not isinstance(raw_steps, list):
        check.fail("spec.steps", "must be a list of steps")
        raw_steps = []
    if len(raw_steps) > MAX_STEPS:
        check.fail("spec.steps", f"at most {MAX_STEPS} steps", "TooMany")
    steps, previous = [], 0.0
    for i, s in enumerate(raw_steps[:MAX_STEPS]):
        step = _step(check, s, f"spec.steps[{i}]", previous)
        steps.append(step)
        at = step.get("at")
        if isinstance(at, int | float) and not isinstance(at, bool):
            previous = max(previous, at)
    out_spec["steps"] = steps
    raw_expect = spec.get("expect") or []
    if not isinstance(raw_expect, list):
        check.fail("spec.expect", "must be a list of checks")
        raw_expect = []
    out_spec["expect"] = [_expect(check, e, f"spec.expect[{i}]") for i, e in enumerate(raw_expect)]
    if check.causes:
        raise DocumentInvalid(check.causes)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": out_spec}


def parse(text: str) -> dict[str, Any]:
    """Read and check a scenario's YAML text (safe YAML, no aliases, at most 1 MiB)."""
    try:
        docs = load_documents(text, max_bytes=MAX_BYTES, max_documents=1)
    except ManifestError as exc:
        if exc.message.startswith("document 1"):
            return normalize(yaml.safe_load(text))  # let the scenario checks name the field
        raise DocumentInvalid([{"reason": "FieldValueInvalid", "field": "", "message": exc.message}]) from exc
    return normalize(docs[0])


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(doc: dict[str, Any]) -> str:
    """Return the canonical YAML of a normalized document."""
    return yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
