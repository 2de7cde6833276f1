"""Rebuild ``messages.json``, the field table the protobuf decoder reads (a dev-time tool).

Usage::

    python -m kubeviz.apiserver.protobuf.generate API_GIT_DIR APIMACHINERY_GIT_DIR [-o OUT]

Both arguments are git directories (bare or not) of the upstream ``kubernetes/api`` and
``kubernetes/apimachinery`` repositories; files are read from their ``HEAD`` with
``git show``, so no checkout is needed.  The table is derived from two upstream sources:

* each package's ``generated.proto`` (written by Kubernetes' go-to-protobuf) gives, per
  message, the field numbers, the wire-level types, and which fields are repeated or maps;
* the Go structs the messages were generated from give what the wire cannot: the JSON
  name (an embedded struct with an empty JSON name is inlined into its parent), whether
  the field is a pointer, and whether its JSON tag says ``omitempty`` or ``omitzero``.
  Go's protobuf marshaller writes every non-pointer field even when it is zero, while
  Go's JSON encoder drops those zero values the tags ask it to, so the decoder needs
  both facts to render a body the way a JSON client would have sent it.

Only messages reachable from ``KINDS`` are written, and the well-known types that have a
JSON form of their own (``SPECIAL``: Time, Quantity, IntOrString, ...) are left to the
decoder's code.  The output holds only derived names and numbers, never upstream text.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

API = "k8s.io.api."
APIMACHINERY = "k8s.io.apimachinery."
META = "k8s.io.apimachinery.pkg.apis.meta.v1"

# (apiVersion, kind) -> message, for every kind the apiserver accepts as a protobuf body.
KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "k8s.io.api.core.v1.Namespace",
    ("v1", "Node"): "k8s.io.api.core.v1.Node",
    ("v1", "Pod"): "k8s.io.api.core.v1.Pod",
    ("v1", "Service"): "k8s.io.api.core.v1.Service",
    ("v1", "Endpoints"): "k8s.io.api.core.v1.Endpoints",
    ("v1", "ConfigMap"): "k8s.io.api.core.v1.ConfigMap",
    ("v1", "Secret"): "k8s.io.api.core.v1.Secret",
    ("v1", "ServiceAccount"): "k8s.io.api.core.v1.ServiceAccount",
    ("v1", "Event"): "k8s.io.api.core.v1.Event",
    ("v1", "Binding"): "k8s.io.api.core.v1.Binding",
    ("events.k8s.io/v1", "Event"): "k8s.io.api.events.v1.Event",
    ("coordination.k8s.io/v1", "Lease"): "k8s.io.api.coordination.v1.Lease",
    ("apps/v1", "Deployment"): "k8s.io.api.apps.v1.Deployment",
    ("apps/v1", "ReplicaSet"): "k8s.io.api.apps.v1.ReplicaSet",
    ("apps/v1", "DaemonSet"): "k8s.io.api.apps.v1.DaemonSet",
    ("apps/v1", "StatefulSet"): "k8s.io.api.apps.v1.StatefulSet",
    ("apps/v1", "ControllerRevision"): "k8s.io.api.apps.v1.ControllerRevision",
    ("batch/v1", "Job"): "k8s.io.api.batch.v1.Job",
    ("batch/v1", "CronJob"): "k8s.io.api.batch.v1.CronJob",
    ("discovery.k8s.io/v1", "EndpointSlice"): "k8s.io.api.discovery.v1.EndpointSlice",
    ("networking.k8s.io/v1", "IPAddress"): "k8s.io.api.networking.v1.IPAddress",
    ("autoscaling/v1", "Scale"): "k8s.io.api.autoscaling.v1.Scale",
}

# client-go's typed clients stamp DeleteOptions with their own group version ("v1" for
# core, "apps/v1", ...): every group registers the meta options types, and the typed
# encoder picks the kind registered under the client's group version.  meta.k8s.io/v1 is
# the options types' own home.  Accept DeleteOptions under all of them.
for _api_version in sorted({"meta.k8s.io/v1"} | {v for v, _ in KINDS}):
    KINDS[(_api_version, "DeleteOptions")] = f"{META}.DeleteOptions"

# Messages whose JSON form is not their fields; the decoder renders them itself.
SPECIAL = frozenset(
    {
        f"{META}.Time",
        f"{META}.MicroTime",
        f"{META}.Duration",
        f"{META}.FieldsV1",
        "k8s.io.apimachinery.pkg.api.resource.Quantity",
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
        "k8s.io.apimachinery.pkg.runtime.RawExtension",
    }
)

SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"})

_MESSAGE = re.compile(r"^message\s+(\w+)\s*\{$")
_FIELD = re.compile(r"^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;$")
_MAP = re.compile(r"^map\s*<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$")
_HEADER = re.compile(r"^(syntax|package|import|option)\b")
_GO_TYPE = re.compile(r"^type\s+(\w+)\s+(struct\s*\{|\S.*)$")
_GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?([^\s`]+)\s+`([^`]*)`")
_TAG = re.compile(r'(\w+):"([^"]*)"')


@dataclass
class ProtoField:
    """One field of a ``generated.proto`` message, its types fully qualified."""

    number: int
    name: str
    type: str
    repeated: bool
    map_key: str | None = None


@dataclass
class GoField:
    """What the Go struct says about one protobuf-tagged field."""

    json_name: str | None  # None: the field is never written to JSON ("-")
    inline: bool
    pointer: bool
    omitempty: bool
    omitzero: bool


class Repo:
    """Read files at HEAD of a git directory without a work tree."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        listing = self._git("ls-tree", "-r", "--name-only", "HEAD")
        self.files = set(listing.splitlines())

    def _git(self, *args: str) -> str:
        proc = subprocess.run(["git", "-C", str(self.git_dir), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} in {self.git_dir} failed: {proc.stderr.strip()}")
        return proc.stdout

    def read(self, path: str) -> str:
        """Return the text of ``path`` at HEAD."""
        return self._git("show", f"HEAD:{path}")


def _resolve(type_name: str, package: str) -> str:
    """Qualify a proto type reference the way protoc would for these flat files."""
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        return type_name[1:]
    return f"{package}.{type_name}"


def parse_proto(text: str) -> tuple[str, dict[str, dict[int, ProtoField]]]:
    """Return the package and the messages of one go-to-protobuf ``generated.proto``."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    package = ""
    messages: dict[str, dict[int, ProtoField]] = {}
    current: dict[int, ProtoField] | None = None
    for raw_line in text.splitlines():
        line = raw_line.split("//", 1)[0].strip()
        if not line:
            continue
        if current is None:
            if m := _MESSAGE.match(line):
                current = messages.setdefault(f"{package}.{m.group(1)}", {})
            elif line.startswith("package "):
                package = line.removeprefix("package ").rstrip(";").strip()
            elif not _HEADER.match(line):
                raise SystemExit(f"unexpected top-level proto line: {line!r}")
            continue
        if line == "}":
            current = None
        elif m := _FIELD.match(line):
            label, type_name, name, number = m.groups()
            current[int(number)] = ProtoField(
                int(number), name, _resolve(type_name, package), label == "repeated"
            )
        elif m := _MAP.match(line):
            key, value, name, number = m.groups()
            current[int(number)] = ProtoField(
                int(number), name, _resolve(value, package), repeated=False, map_key=_resolve(key, package)
            )
        else:
            # Nested messages, enums and oneofs never appear in go-to-protobuf output.
            raise SystemExit(f"unexpected proto line inside a message: {line!r}")
    return package, messages


def parse_go(text: str) -> tuple[dict[str, dict[int, GoField]], set[str]]:
    """Return the protobuf-tagged fields of each Go struct, and the non-struct type names."""
    structs: dict[str, dict[int, GoField]] = {}
    others: set[str] = set()
    current: dict[int, GoField] | None = None
    depth = 0
    for line in text.splitlines():
        if current is None:
            if m := _GO_TYPE.match(line):
                if m.group(2).startswith("struct"):
                    current = structs.setdefault(m.group(1), {})
                    depth = line.count("{") - line.count("}")
                    if depth <= 0:
                        current = None
                else:
                    others.add(m.group(1))
            continue
        code = line.split("//", 1)[0]
        if depth == 1 and (m := _GO_FIELD.match(code)):
            name, go_type, tag_text = m.groups()
            tags = dict(_TAG.findall(tag_text))
            proto_tag = tags.get("protobuf", "").split(",")
            # `protobuf:"-"` marks Go-only fields (e.g. the time.Time inside metav1.Time).
            if len(proto_tag) > 1 and proto_tag[1].isdigit():
                number = int(proto_tag[1])
                json_parts = tags.get("json", "").split(",")
                json_name: str | None = json_parts[0]
                embedded = name is None
                if json_name == "-":
                    json_name = None
                elif not json_name and not embedded:
                    # Without a JSON name Go's encoder keys the field by its Go name.
                    json_name = name
                current[number] = GoField(
                    json_name=json_name,
                    inline=embedded and json_name == "",
                    pointer=go_type.startswith("*"),
                    omitempty="omitempty" in json_parts[1:],
                    omitzero="omitzero" in json_parts[1:],
                )
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            current = None
    return structs, others


class Universe:
    """Every proto package and Go package loaded so far, read on demand."""

    def __init__(self, api: Repo, apimachinery: Repo) -> None:
        self.api, self.apimachinery = api, apimachinery
        self.messages: dict[str, dict[int, ProtoField]] = {}
        self.go: dict[str, dict[int, GoField]] = {}
        self.go_non_structs: set[str] = set()
        self.loaded: set[str] = set()

    def _locate(self, package: str) -> tuple[Repo, str]:
        """Map a proto package to its repository and directory (k8s.io.api.apps.v1 -> apps/v1)."""
        if package.startswith(API):
            return self.api, package.removeprefix(API).replace(".", "/")
        if package.startswith(APIMACHINERY):
            return self.apimachinery, package.removeprefix(APIMACHINERY).replace(".", "/")
        raise SystemExit(f"no repository holds proto package {package}")

    def load(self, package: str) -> None:
        """Read a package's ``generated.proto`` and the Go files beside it."""
        if package in self.loaded:
            return
        self.loaded.add(package)
        repo, directory = self._locate(package)
        proto_package, messages = parse_proto(repo.read(f"{directory}/generated.proto"))
        if proto_package != package:
            raise SystemExit(f"{directory}/generated.proto declares {proto_package}, expected {package}")
        self.messages.update(messages)
        for path in sorted(repo.files):
            if not path.startswith(f"{directory}/") or "/" in path.removeprefix(f"{directory}/"):
                continue
            base = path.rsplit("/", 1)[-1]
            if not base.endswith(".go") or base.endswith("_test.go") or base.startswith(("zz_", "generated")):
                continue
            structs, others = parse_go(repo.read(path))
            for name, fields in structs.items():
                self.go[f"{package}.{name}"] = fields
            self.go_non_structs |= {f"{package}.{name}" for name in others}

    def message(self, name: str) -> dict[int, ProtoField]:
        """Return a message's proto fields, loading its package first."""
        self.load(name.rsplit(".", 1)[0])
        if name not in self.messages:
            raise SystemExit(f"message {name} is not in its package's generated.proto")
        return self.messages[name]


def _short(type_name: str, package: str) -> str:
    """Write a type reference relative to ``package`` when it lives there (keeps the table small)."""
    prefix = f"{package}."
    if type_name.startswith(prefix) and "." not in type_name.removeprefix(prefix):
        return type_name.removeprefix(prefix)
    return type_name


def build(universe: Universe) -> dict:
    """Return the table: the kinds, and the fields of every message reachable from them."""
    packages: dict[str, dict[str, list[list]]] = {}
    seen: set[str] = set()
    queue = deque(sorted(set(KINDS.values())))
    while queue:
        name = queue.popleft()
        if name in seen or name in SPECIAL:
            continue
        seen.add(name)
        proto = universe.message(name)
        if name in universe.go_non_structs:
            raise SystemExit(f"{name} is a Go slice/map type wrapped in a message; teach the decoder first")
        go = universe.go.get(name)
        if go is None:
            raise SystemExit(f"no Go struct found for {name}")
        package, short = name.rsplit(".", 1)
        fields: list[list] = []
        for number, field in sorted(proto.items()):
            info = go.get(number)
            if info is None:
                raise SystemExit(f"{name} field {number} ({field.name}) has no protobuf-tagged Go field")
            if info.json_name is None:
                continue
            if field.type not in SCALARS:
                queue.append(field.type)
            flags = ""
            if field.repeated:
                flags += "r"
            if info.inline:
                flags += "i"
            # Go's JSON encoder drops a zero value from a non-pointer field when the tag says
            # omitzero, or omitempty on a scalar (omitempty never drops a struct).
            single = field.map_key is None and not field.repeated
            if single and not info.pointer and (info.omitzero or (info.omitempty and field.type in SCALARS)):
                flags += "z"
            type_ref: str | list[str] = _short(field.type, package)
            if field.map_key is not None:
                type_ref = [field.map_key, type_ref]
            fields.append([number, info.json_name, type_ref, flags])
        packages.setdefault(package, {})[short] = fields
    return {
        "kinds": {f"{v}/{k}": m for (v, k), m in sorted(KINDS.items())},
        "packages": {p: dict(sorted(ms.items())) for p, ms in sorted(packages.items())},
    }


def dump(table: dict) -> str:
    """Serialise the table compactly, one message per line so diffs stay readable."""

    def compact(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    lines = ["{", f'"kinds":{compact(table["kinds"])},', '"packages":{']
    package_items = list(table["packages"].items())
    for i, (package, messages) in enumerate(package_items):
        lines.append(f"{compact(package)}:{{")
        message_items = list(messages.items())
        for j, (name, fields) in enumerate(message_items):
            comma = "," if j < len(message_items) - 1 else ""
            lines.append(f"{compact(name)}:{compact(fields)}{comma}")
        lines.append("}," if i < len(package_items) - 1 else "}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Regenerate the table from the two upstream git directories."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api", type=Path, help="git directory of kubernetes/api")
    parser.add_argument("apimachinery", type=Path, help="git directory of kubernetes/apimachinery")
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).with_name("messages.json"))
    args = parser.parse_args(argv)
    table = build(Universe(Repo(args.api), Repo(args.apimachinery)))
    args.output.write_text(dump(table), encoding="utf-8")
    count = sum(len(ms) for ms in table["packages"].values())
    print(f"wrote {count} messages, {len(table['kinds'])} kinds to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
