"""Request bodies in, JSON out.

Bodies may be JSON, YAML (``application/yaml``, and the apply-patch content type) or
Kubernetes protobuf, which client-go's typed clients send for built-in kinds.
YAML is read with PyYAML's safe loader, extended to refuse documents whose aliases would
expand to more than ``MAX_EXPANDED_NODES`` nodes: a "billion laughs" manifest is a few
hundred bytes that expand to gigabytes once serialized, and it is refused while it is
being read, before anything is built from it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import yaml

from kubeviz.apiserver import errors, protobuf

MAX_EXPANDED_NODES = 10_000
MAX_DEPTH = 100

JSON = "application/json"
YAML = "application/yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that bounds what aliases would expand to, and how deep nodes nest."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def _size(self, node: yaml.Node) -> int:
        """Return how many nodes ``node`` stands for once every alias in it is expanded."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        return size

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            target = self.anchors.get(anchor)
            if target is not None:
                self._expanded += self._size(target)
                if self._expanded > MAX_EXPANDED_NODES:
                    raise yaml.YAMLError(
                        f"document expands to more than {MAX_EXPANDED_NODES} nodes through aliases"
                    )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.YAMLError(f"document is nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Kubernetes reads YAML 1.1 timestamps and dates as plain strings.
for _first, _resolvers in list(_BoundedLoader.yaml_implicit_resolvers.items()):
    _BoundedLoader.yaml_implicit_resolvers[_first] = [
        (tag, rx) for tag, rx in _resolvers if tag != "tag:yaml.org,2002:timestamp"
    ]


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely; raises yaml.YAMLError."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml_all(text: str) -> list[Any]:
    """Parse every document of a multi-document YAML stream safely."""
    loader = _BoundedLoader(text)
    docs = []
    try:
        while loader.check_data():
            docs.append(loader.get_data())
    finally:
        loader.dispose()
    return docs


def media_type(content_type: str | None) -> str:
    """Return the bare media type of a Content-Type header, lower-cased."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode(raw: bytes, content_type: str | None) -> Any:
    """Decode a request body by its content type; APIError 400/415 when it cannot be read."""
    kind = media_type(content_type) or JSON
    if kind == PROTOBUF:
        try:
            return protobuf.decode_object(raw)
        except protobuf.UnsupportedKind as exc:
            raise errors.APIError(
                415, "UnsupportedMediaType", f"{exc}; send this kind as application/json"
            ) from exc
        except ValueError as exc:
            raise errors.bad_request(f"error decoding protobuf body: {exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.bad_request(f"request body is not valid UTF-8: {exc}") from exc
    if kind in (JSON, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            try:  # the standard parser reads what orjson refuses (integers beyond 64 bits)
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise errors.bad_request(f"error decoding JSON: {exc}") from exc
    if kind in (YAML, APPLY_PATCH, "application/x-yaml", "text/yaml"):
        try:
            return load_yaml(text)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {exc}") from exc
    raise errors.unsupported_media_type(kind)


def encode(obj: Any) -> bytes:
    """Encode a response body as compact JSON (orjson, with the standard library as a fallback)."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers beyond 64 bits, which only the standard encoder can write
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
