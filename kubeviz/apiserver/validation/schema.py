"""Structural validation of a request body against its Kubernetes v1.36 definition.

Contract: ``validate_object(obj, definition)`` tells what kube-apiserver's decoder would
do with ``obj`` when it unmarshals it into the Go struct of ``definition``:

* fields the struct does not have are *unknown*: strict decoding reports them as
  ``unknown field "spec.foo"`` and a lax decode silently drops them, so the result carries
  both their paths and a ``pruned`` copy of the object without them;
* values of the wrong JSON type (a string for an ``int32``, a list for a struct, ...) and
  values the decoder cannot parse (an ``int32`` out of range, bad base64 for ``[]byte``, a
  malformed RFC 3339 time, a malformed quantity) are ``type_errors``.

It mirrors the decoding half of kube-apiserver (``sigs.k8s.io/json`` strict unmarshalling
as used by ``k8s.io/apimachinery/pkg/runtime/serializer/json``), not the per-type semantic
validation of ``pkg/apis/*/validation``: ``required`` and ``enum`` are not checked here, and
``null`` is accepted wherever a field exists, because unmarshalling ``null`` into a Go field
just leaves its zero value.  Messages use the wording of kube-openapi's schema validation
(``spec.replicas in body must be of type integer: "string"``), as kube-apiserver does for
custom resources.  ``status`` is part of the definition and is validated like ``spec``.

Implementation: the definitions are loaded once, reduced to the keywords that matter to a
decoder (``type``, ``properties``, ``additionalProperties``, ``items``, ``$ref`` and the
parseable ``format``\\ s), and put into a ``referencing`` registry.  Validation runs through
a ``jsonschema`` Draft 2020-12 validator class whose object/array keywords iterate over the
*instance* (not over every property the schema declares) and check scalar leaves inline,
which keeps a typical Deployment well under a millisecond.  One validator per definition is
compiled on first use and cached for the life of the process.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kubeviz.apiserver import schema as k8s_schema
from kubeviz.apiserver.errors import Cause

__all__ = ["SchemaResult", "validate_object"]

# The URI the (reduced) definitions are registered under; refs in the file are
# document-relative ("#/$defs/<name>"), so they resolve against it.
_DEFS_URI = "urn:kubeviz:kubernetes:v1.36.0:definitions"
# Marks a reduced schema that has no sub-schemas, so it can be checked without descending.
_LEAF = "x-kubeviz-leaf"
# ``validator`` names on the errors we raise ourselves.
_UNKNOWN = "unknownField"
_TYPE = "type"
_FORMAT = "format"

_QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?"
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})",
)
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class SchemaResult:
    """What decoding an object into its Go type would keep, drop and refuse."""

    pruned: dict[str, Any]
    unknown_fields: list[str] = field(default_factory=list)
    type_errors: list[Cause] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether the object decodes cleanly (no unknown fields, no type errors)."""
        return not self.unknown_fields and not self.type_errors

    def unknown_field_messages(self) -> list[str]:
        """Return the unknown fields worded as kube-apiserver words them."""
        return [f'unknown field "{path}"' for path in self.unknown_fields]


def validate_object(obj: dict[str, Any], definition: str) -> SchemaResult:
    """Validate ``obj`` against ``definition`` (e.g. ``io.k8s.api.apps.v1.Deployment``).

    Raise KeyError if the definition does not exist.  ``obj`` is never modified.
    """
    errors = list(_validator(definition).iter_errors(obj))
    pruned = _copy(obj)
    if not errors:
        return SchemaResult(pruned=pruned)
    unknown: list[str] = []
    type_errors: list[Cause] = []
    for error in errors:
        segments = list(error.absolute_path)
        path = _format_path(segments)
        if error.validator == _UNKNOWN:
            unknown.append(path)
            _remove(pruned, segments)
        elif error.validator == _FORMAT:
            type_errors.append(_format_cause(path, error.instance, str(error.validator_value)))
        else:
            type_errors.append(_type_cause(path, error.instance, error.validator_value))
    return SchemaResult(pruned=pruned, unknown_fields=unknown, type_errors=type_errors)


# --- messages ---------------------------------------------------------------------------


def _render(value: Any) -> str:
    """Render a bad value the way a field error shows it (strings quoted, the rest JSON)."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    # Keep a multi-kilobyte bad value from drowning the message.
    return text if len(text) <= 256 else text[:253] + "..."


def _where(path: str) -> str:
    return f"{path} in body" if path else "body"


def _type_cause(path: str, value: Any, types: Any) -> Cause:
    wanted = ",".join(t for t in (types if isinstance(types, list) else [types]) if t != "null")
    actual = _json_type(value) or type(value).__name__
    message = f'Invalid value: {_render(value)}: {_where(path)} must be of type {wanted}: "{actual}"'
    return Cause(reason="FieldValueTypeInvalid", message=message, field=path)


def _format_cause(path: str, value: Any, fmt: str) -> Cause:
    if fmt == "quantity":
        detail = f"quantities must match the regular expression '{_QUANTITY_REGEX_TEXT}'"
    else:
        detail = f"{_where(path)} must be of type {fmt}: {_render(value)}"
    return Cause(reason="FieldValueInvalid", message=f"Invalid value: {_render(value)}: {detail}", field=path)


# --- paths ------------------------------------------------------------------------------


class _MapKey(str):
    """A path segment that is a map key rather than a struct field (printed as ``[key]``)."""

    __slots__ = ()


def _format_path(segments: Iterable[Any]) -> str:
    """Format a path the way ``k8s.io/apimachinery/pkg/util/validation/field.Path`` does."""
    out = ""
    for seg in segments:
        if isinstance(seg, int | _MapKey):
            out += f"[{seg}]"
        else:
            out = f"{out}.{seg}" if out else str(seg)
    return out


def _remove(root: dict[str, Any], segments: list[Any]) -> None:
    node: Any = root
    for seg in segments[:-1]:
        node = node[seg]
    node.pop(segments[-1], None)


def _copy(value: Any) -> Any:
    """Copy nested dicts and lists (scalars are immutable); much faster than deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --- JSON types and formats -------------------------------------------------------------

_JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    dict: "object",
    list: "array",
    type(None): "null",
}


def _json_type(value: Any) -> str | None:
    name = _JSON_TYPES.get(type(value))
    if name is not None:
        return name
    # Subclasses (OrderedDict, IntEnum ...); bool before int since bool is an int.
    for py, json_name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (dict, "object"),
        (list, "array"),
    ):
        if isinstance(value, py):
            return json_name
    return None


def _type_matches(value: Any, types: list[str]) -> bool:
    name = _json_type(value)
    if name in types:
        return True
    if name == "integer":
        return "number" in types
    if name == "number":
        # JSON has one number type: 3.0 is an integer to a JSON Schema validator.
        return "integer" in types and float(value).is_integer()
    return False


def _int_in(bounds: tuple[int, int]) -> Callable[[Any], bool]:
    low, high = bounds
    return lambda v: not isinstance(v, int | float) or isinstance(v, bool) or low <= v <= high


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    # Go's StdEncoding skips CR and LF but insists on padding and the standard alphabet.
    try:
        base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_rfc3339(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    m = _RFC3339.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    return second <= 60


def _is_quantity(value: Any) -> bool:
    return not isinstance(value, str) or _QUANTITY.fullmatch(value) is not None


# Formats whose values the Go decoder parses (and so can refuse); others are annotations.
_FORMATS: dict[str, Callable[[Any], bool]] = {
    "int32": _int_in(_INT32),
    "int64": _int_in(_INT64),
    "byte": _is_base64,
    "date-time": _is_rfc3339,
    "quantity": _is_quantity,
}


# --- the reduced definitions and their registry -----------------------------------------


def _reduce(node: Any) -> Any:
    """Reduce a definition node to what decoding needs (see the module docstring)."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        # Siblings of a $ref are descriptions and list/patch annotations only.
        return {"$ref": node["$ref"]}
    if "oneOf" in node:
        # IntOrString / Quantity: any of the alternatives' types; no sub-schemas.
        types: set[str] = set()
        for alt in node["oneOf"]:
            t = alt.get("type", [])
            types.update([t] if isinstance(t, str) else t)
        return {"type": _nullable(sorted(types)), _LEAF: True}
    out: dict[str, Any] = {}
    if "type" in node:
        t = node["type"]
        out["type"] = _nullable([t] if isinstance(t, str) else list(t))
    fmt = node.get("format")
    if fmt in _FORMATS:
        out["format"] = fmt
    if "properties" in node:
        out["properties"] = {name: _reduce(sub) for name, sub in node["properties"].items()}
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        out["additionalProperties"] = _reduce(extra) if isinstance(extra, dict) else extra
    if "items" in node:
        out["items"] = _reduce(node["items"])
    if not ({"properties", "additionalProperties", "items"} & out.keys()):
        out[_LEAF] = True
    return out


def _nullable(types: list[str]) -> list[str]:
    return types if "null" in types else [*types, "null"]


@cache
def _reduced_definitions() -> dict[str, Any]:
    defs = {name: _reduce(node) for name, node in k8s_schema.definitions().items()}
    quantity = defs.get(_QUANTITY_DEF)
    if quantity is not None:
        # Quantity strings are parsed by the decoder; give them a format we can check.
        defs[_QUANTITY_DEF] = {**quantity, "format": "quantity"}
    return defs


@cache
def _registry() -> Registry:
    contents = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": _reduced_definitions()}
    return Registry().with_resource(_DEFS_URI, Resource(contents=contents, specification=DRAFT202012))


@cache
def _resolver() -> Any:
    return _registry().resolver(base_uri=_DEFS_URI)


_REFS: dict[str, dict[str, Any]] = {}


def _deref(ref: str) -> dict[str, Any]:
    target = _REFS.get(ref)
    if target is None:
        target = _REFS[ref] = _resolver().lookup(ref).contents
    return target


# --- keywords ---------------------------------------------------------------------------
# jsonschema's stock object keywords walk every property the schema declares (PodSpec has
# dozens) and descend (building a new validator) even for a scalar; these walk the
# instance's own keys and check scalar leaves in place.


def _check(validator: Any, sub: dict[str, Any], value: Any, seg: Any) -> Iterator[ValidationError]:
    if "$ref" in sub:
        sub = _deref(sub["$ref"])
    if _LEAF in sub:
        types = sub["type"]
        if not _type_matches(value, types):
            yield ValidationError(
                "wrong type", validator=_TYPE, validator_value=types, instance=value, schema=sub, path=[seg]
            )
        elif "format" in sub and not _FORMATS[sub["format"]](value):
            yield ValidationError(
                "bad format",
                validator=_FORMAT,
                validator_value=sub["format"],
                instance=value,
                schema=sub,
                path=[seg],
            )
        return
    yield from validator.descend(value, sub, path=seg, resolver=_resolver())


def _kw_properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    extra = schema.get("additionalProperties")
    for key, value in instance.items():
        sub = properties.get(key)
        if sub is None:
            if extra is False:
                yield ValidationError(
                    "unknown field", validator=_UNKNOWN, instance=value, schema=schema, path=[key]
                )
            elif isinstance(extra, dict) and value is not None:
                yield from _check(validator, extra, value, _MapKey(key))
        elif value is not None:
            yield from _check(validator, sub, value, key)


def _kw_additional(
    validator: Any, extra: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    # With "properties" present, _kw_properties has already seen every key.
    if "properties" in schema or not isinstance(instance, dict):
        return
    for key, value in instance.items():
        if extra is False:
            yield ValidationError(
                "unknown field", validator=_UNKNOWN, instance=value, schema=schema, path=[key]
            )
        elif isinstance(extra, dict) and value is not None:
            yield from _check(validator, extra, value, _MapKey(key))


def _kw_items(validator: Any, items: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, list) or not isinstance(items, dict):
        return
    for index, item in enumerate(instance):
        if item is not None:
            yield from _check(validator, items, item, index)


def _kw_type(
    validator: Any, types: list[str], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not _type_matches(instance, types):
        yield ValidationError(
            "wrong type", validator=_TYPE, validator_value=types, instance=instance, schema=schema
        )


def _kw_format(validator: Any, fmt: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    check = _FORMATS.get(fmt)
    if check is not None and _type_matches(instance, schema.get("type", [])) and not check(instance):
        yield ValidationError(
            "bad format", validator=_FORMAT, validator_value=fmt, instance=instance, schema=schema
        )


def _kw_ref(validator: Any, ref: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    yield from validator.descend(instance, _deref(ref), resolver=_resolver())


_DecoderValidator = validators.extend(
    Draft202012Validator,
    validators={
        "$ref": _kw_ref,
        "type": _kw_type,
        "format": _kw_format,
        "properties": _kw_properties,
        "additionalProperties": _kw_additional,
        "items": _kw_items,
    },
)


@cache
def _validator(definition: str) -> Any:
    if definition not in _reduced_definitions():
        raise KeyError(definition)
    return _DecoderValidator({"$ref": f"{_DEFS_URI}#/$defs/{definition}"}, registry=_registry())
