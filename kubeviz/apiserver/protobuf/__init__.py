"""Read Kubernetes protobuf request bodies into the dicts a JSON client would have sent.

client-go's typed clients send built-in kinds as ``application/vnd.kubernetes.protobuf``
and do not retry with JSON, so the apiserver has to read that format; it still answers in
JSON.  The format mirrors apimachinery's protobuf serializer: a 4-byte magic ``k8s\\x00``
followed by a ``runtime.Unknown`` envelope (1: TypeMeta {1: apiVersion, 2: kind}, 2: the
object's own message, 3: contentEncoding, 4: contentType).  The object message is read
with the field table in ``messages.json`` (derived from upstream's go-to-protobuf output
by ``generate.py``) and rendered the way Go's ``encoding/json`` would render the decoded
struct:

* non-pointer ``omitempty`` scalars and ``omitzero`` fields are dropped when zero (Go's
  protobuf marshaller writes them anyway), pointer and plain scalars keep their zero
  value, absent fields stay absent;
* a message that is present renders as an object even when empty, and embedded structs
  with no JSON name are merged into their parent;
* ``bytes`` become standard base64, maps become objects, repeated scalars may be packed
  or not;
* the well-known types render as their own JSON: ``Time`` (RFC 3339, whole seconds, an
  empty message is Go's zero time, i.e. ``null``), ``MicroTime`` (6 fractional digits),
  ``Duration`` (Go's ``1h2m3s`` form), ``Quantity`` (its string), ``IntOrString`` (int or
  string), ``RawExtension`` and ``FieldsV1`` (their embedded JSON, parsed).

``decode_object`` raises ``ValueError`` for anything malformed, and its subclass
``UnsupportedKind`` when the envelope names a kind the table does not hold.  Unknown field
numbers are skipped, as Go's generated unmarshallers do; a singular field that occurs
twice keeps its last value (Go would merge two halves of a sub-message; clients never
split one).  Hostile input cannot recurse without bound (``MAX_DEPTH``) nor make the
decoder allocate more than a small multiple of the body: every length is checked against
the bytes that remain before anything is sliced, and unknown fields are never descended.
"""

from __future__ import annotations

import base64
import functools
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "CONTENT_TYPE",
    "MAGIC",
    "MAX_DEPTH",
    "UnsupportedKind",
    "decode_object",
    "go_duration",
    "supports",
]

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
# The deepest supported kind (CronJob) nests 13 messages and the table has no cycles, so
# this is a backstop should a recursive message (like JSONSchemaProps) ever join the table.
MAX_DEPTH = 64

_TABLE = Path(__file__).with_name("messages.json")
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_TIME = f"{_META}.Time"
_MICRO_TIME = f"{_META}.MicroTime"
_DURATION = f"{_META}.Duration"
_FIELDS_V1 = f"{_META}.FieldsV1"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"})
_PACKABLE = _SCALARS - {"string", "bytes"}

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Go's zero time.Time (0001-01-01T00:00:00Z) as Unix seconds: it marshals to JSON null.
_GO_ZERO_SECONDS = -62135596800


class UnsupportedKind(ValueError):
    """The envelope names an apiVersion/kind that has no protobuf field table here."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    type: str  # a scalar name or a fully qualified message name
    repeated: bool
    inline: bool
    drop_zero: bool
    key: str | None  # the key type when the field is a map


@functools.cache
def _table() -> tuple[dict[str, str], dict[str, dict[int, _Field]]]:
    """Load ``messages.json`` once, qualifying every type reference."""
    data = json.loads(_TABLE.read_text(encoding="utf-8"))
    messages: dict[str, dict[int, _Field]] = {}
    for package, package_messages in data["packages"].items():
        for name, entries in package_messages.items():
            fields: dict[int, _Field] = {}
            for number, json_name, type_ref, flags in entries:
                key = None
                if isinstance(type_ref, list):
                    key, type_ref = type_ref
                if type_ref not in _SCALARS and "." not in type_ref:
                    type_ref = f"{package}.{type_ref}"
                fields[number] = _Field(json_name, type_ref, "r" in flags, "i" in flags, "z" in flags, key)
            messages[f"{package}.{name}"] = fields
    return data["kinds"], messages


def supports(api_version: str, kind: str) -> bool:
    """Tell whether bodies of this apiVersion/kind can be decoded."""
    return f"{api_version}/{kind}" in _table()[0]


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read one base-128 varint (at most 10 bytes, at most 64 bits) starting at ``pos``."""
    value = shift = 0
    for i in range(pos, min(pos + 10, end)):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if value >> 64:
                raise ValueError(f"varint at offset {pos} overflows 64 bits")
            return value, i + 1
        shift += 7
    if end - pos >= 10:
        raise ValueError(f"varint at offset {pos} is longer than 10 bytes")
    raise ValueError(f"truncated varint at offset {pos}")


def _fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(number, wire_type, value)`` for each field in ``buf[start:end]``.

    ``value`` is an int for varint and fixed-width fields, and a ``(start, end)`` pair of
    offsets for length-delimited ones, so nothing is copied until a field is used.
    """
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number < 1 or number > 0x1FFFFFFF:
            raise ValueError(f"invalid field number {number} before offset {pos}")
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if end - pos < size:
                raise ValueError(f"field {number} at offset {pos} is cut short")
            yield number, wire, int.from_bytes(buf[pos : pos + size], "little")
            pos += size
        elif wire == _LENGTH:
            length, pos = _varint(buf, pos, end)
            if length > end - pos:
                raise ValueError(
                    f"field {number} claims {length} bytes at offset {pos}, only {end - pos} remain"
                )
            yield number, wire, (pos, pos + length)
            pos += length
        else:
            # Groups (3, 4) and reserved wire types never occur in Kubernetes messages.
            raise ValueError(f"unsupported wire type {wire} for field {number}")


def _signed(value: int, bits: int) -> int:
    """Reinterpret the low ``bits`` bits of a varint as two's complement."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _scalar(type_name: str, wire: int, value: Any, buf: bytes) -> Any:
    """Convert one wire value of a scalar field to its JSON form."""
    expected = {"string": _LENGTH, "bytes": _LENGTH, "double": _FIXED64, "float": _FIXED32}.get(
        type_name, _VARINT
    )
    if wire != expected:
        raise ValueError(f"{type_name} field has wire type {wire}, expected {expected}")
    if type_name == "string":
        # Go does not check UTF-8 here; its JSON encoder later substitutes U+FFFD.
        return buf[value[0] : value[1]].decode("utf-8", errors="replace")
    if type_name == "bytes":
        return base64.b64encode(buf[value[0] : value[1]]).decode("ascii")
    if type_name == "bool":
        return value != 0
    if type_name == "int64":
        return _signed(value, 64)
    if type_name == "int32":
        return _signed(value, 32)
    if type_name == "uint32":
        return value & 0xFFFFFFFF
    if type_name == "double":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if type_name == "float":
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    return value  # uint64


def _packed(type_name: str, buf: bytes, start: int, end: int) -> list[Any]:
    """Read a packed run of numeric scalars."""
    items: list[Any] = []
    pos = start
    if type_name in ("double", "float"):
        size = 8 if type_name == "double" else 4
        if (end - start) % size:
            raise ValueError(f"packed {type_name} run of {end - start} bytes is not a multiple of {size}")
        wire = _FIXED64 if size == 8 else _FIXED32
        for pos in range(start, end, size):
            items.append(_scalar(type_name, wire, int.from_bytes(buf[pos : pos + size], "little"), buf))
        return items
    while pos < end:
        value, pos = _varint(buf, pos, end)
        items.append(_scalar(type_name, _VARINT, value, buf))
    return items


def _small_message(buf: bytes, span: tuple[int, int]) -> dict[int, Any]:
    """Read a flat message of scalars into ``{number: raw value}`` (last occurrence wins)."""
    return {number: value for number, _wire, value in _fields(buf, *span)}


def _int_field(fields: dict[int, Any], number: int, bits: int, what: str) -> int:
    """Return varint field ``number`` of a flat message as a signed ``bits``-bit int (0 if absent)."""
    value = fields.get(number, 0)
    if not isinstance(value, int):
        raise ValueError(f"{what} field {number} is not a varint")
    return _signed(value, bits)


def _bytes_field(buf: bytes, fields: dict[int, Any], number: int, what: str) -> bytes | None:
    """Return length-delimited field ``number`` of a flat message, or None if absent."""
    span = fields.get(number)
    if span is None:
        return None
    if not isinstance(span, tuple):
        raise ValueError(f"{what} field {number} is not length-delimited")
    return bytes(buf[span[0] : span[1]])


def _rfc3339(seconds: int, micros: int | None) -> str | None:
    """Format Unix time the way metav1.Time (whole seconds) or MicroTime (6 digits) does."""
    total_micros = seconds * 1_000_000 + (micros or 0)
    if total_micros == _GO_ZERO_SECONDS * 1_000_000:
        return None
    try:
        moment = _EPOCH + timedelta(microseconds=total_micros)
    except OverflowError as exc:
        raise ValueError(f"timestamp {seconds}s is out of range") from exc
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    if micros is not None:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def _frac(value: int, precision: int) -> tuple[int, str]:
    """Split ``value`` at ``precision`` decimal digits, the fraction without trailing zeros."""
    if precision == 0:
        return value, ""
    whole, fraction = divmod(value, 10**precision)
    digits = f"{fraction:0{precision}d}".rstrip("0")
    return whole, f".{digits}" if digits else ""


def go_duration(nanoseconds: int) -> str:
    """Format nanoseconds as Go's ``time.Duration.String`` does, e.g. ``1h2m3.5s`` or ``1.5ms``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    magnitude = abs(nanoseconds)
    if magnitude < 1_000_000_000:
        precision, unit = (
            (0, "ns") if magnitude < 1_000 else (3, "µs") if magnitude < 1_000_000 else (6, "ms")
        )
        whole, fraction = _frac(magnitude, precision)
        return f"{sign}{whole}{fraction}{unit}"
    seconds, fraction = _frac(magnitude, 9)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs}{fraction}s"
    if seconds >= 60:
        text = f"{minutes}m{text}"
    if seconds >= 3600:
        text = f"{hours}h{text}"
    return sign + text


def _embedded_json(raw: bytes | None, what: str) -> Any:
    """Parse the JSON a RawExtension or FieldsV1 carries; Go renders a nil one as null."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{what} does not hold valid JSON: {exc}") from exc


def _special(type_name: str, buf: bytes, span: tuple[int, int]) -> Any:
    """Render a well-known type whose JSON form is not its fields."""
    fields = _small_message(buf, span)
    if type_name == _TIME:
        # metav1.Time drops nanoseconds on decode, and an empty message is the zero time.
        if span[1] == span[0]:
            return None
        return _rfc3339(_int_field(fields, 1, 64, "Time"), None)
    if type_name == _MICRO_TIME:
        if span[1] == span[0]:
            return None
        nanos = _int_field(fields, 2, 32, "MicroTime")
        micros = abs(nanos) // 1000 * (1 if nanos >= 0 else -1)  # Go truncates toward zero
        return _rfc3339(_int_field(fields, 1, 64, "MicroTime"), micros)
    if type_name == _DURATION:
        return go_duration(_int_field(fields, 1, 64, "Duration"))
    if type_name == _QUANTITY:
        text = _bytes_field(buf, fields, 1, "Quantity")
        return text.decode("utf-8", errors="replace") if text else "0"
    if type_name == _INT_OR_STRING:
        kind = _int_field(fields, 1, 64, "IntOrString")
        if kind == 0:
            return _int_field(fields, 2, 32, "IntOrString")
        if kind == 1:
            text = _bytes_field(buf, fields, 3, "IntOrString")
            return text.decode("utf-8", errors="replace") if text else ""
        raise ValueError(f"IntOrString has impossible type {kind}")
    if type_name == _RAW_EXTENSION:
        return _embedded_json(_bytes_field(buf, fields, 1, "RawExtension"), "RawExtension")
    if type_name == _FIELDS_V1:
        return _embedded_json(_bytes_field(buf, fields, 1, "FieldsV1"), "FieldsV1")
    raise AssertionError(type_name)


_ZERO: dict[str, Any] = {"string": "", "bytes": "", "bool": False, "double": 0.0, "float": 0.0}
_SPECIAL = frozenset({_TIME, _MICRO_TIME, _DURATION, _QUANTITY, _INT_OR_STRING, _RAW_EXTENSION, _FIELDS_V1})


class _Decoder:
    """Decode one object message against the field table."""

    def __init__(self, buf: bytes, messages: dict[str, dict[int, _Field]]) -> None:
        self.buf = buf
        self.messages = messages

    def value(self, type_name: str, wire: int, value: Any, depth: int) -> Any:
        """Return the JSON form of one non-repeated value of ``type_name``."""
        if type_name in _SCALARS:
            return _scalar(type_name, wire, value, self.buf)
        if wire != _LENGTH:
            raise ValueError(f"message field of type {type_name} has wire type {wire}")
        if type_name in _SPECIAL:
            return _special(type_name, self.buf, value)
        return self.message(type_name, value, depth + 1)

    def map_entry(self, field: _Field, span: tuple[int, int], depth: int) -> tuple[str, Any]:
        """Return one ``{1: key, 2: value}`` entry of a map field; a missing part is Go's zero value."""
        key: Any = _ZERO.get(field.key or "string", 0)
        value: Any = None
        has_value = False
        for number, wire, raw in _fields(self.buf, *span):
            if number == 1:
                key = _scalar(field.key or "string", wire, raw, self.buf)
            elif number == 2:
                value, has_value = self.value(field.type, wire, raw, depth), True
        if not has_value:
            if field.type in _SCALARS:
                value = _ZERO.get(field.type, 0)
            else:
                value = self.value(field.type, _LENGTH, (span[0], span[0]), depth)
        # JSON object keys are strings (Kubernetes maps are all keyed by string anyway).
        return str(key), value

    @staticmethod
    def is_zero(type_name: str, raw: Any, value: Any) -> bool:
        """Tell whether a decoded value is Go's zero value for its field (for omitempty/omitzero)."""
        if type_name in _SCALARS:
            return value in ("", 0)  # 0 also matches False and 0.0
        # An empty message decodes to the zero struct; metav1.Time's IsZero also renders null.
        return raw[0] == raw[1] or value is None

    def message(self, name: str, span: tuple[int, int], depth: int) -> dict[str, Any]:
        """Decode the message ``name`` held in ``buf[span]``."""
        if depth > MAX_DEPTH:
            raise ValueError(f"message nesting exceeds {MAX_DEPTH} levels")
        fields = self.messages.get(name)
        if fields is None:
            raise ValueError(f"no field table for message {name}")
        out: dict[str, Any] = {}
        for number, wire, raw in _fields(self.buf, *span):
            field = fields.get(number)
            if field is None:
                continue
            if field.key is not None:
                if wire != _LENGTH:
                    raise ValueError(f"map field {field.name} has wire type {wire}")
                key, value = self.map_entry(field, raw, depth + 1)
                out.setdefault(field.name, {})[key] = value
            elif field.repeated:
                items = out.setdefault(field.name, [])
                if field.type in _PACKABLE and wire == _LENGTH:
                    items.extend(_packed(field.type, self.buf, *raw))
                else:
                    items.append(self.value(field.type, wire, raw, depth))
            elif field.inline:
                out.update(self.value(field.type, wire, raw, depth))
            else:
                value = self.value(field.type, wire, raw, depth)
                if field.drop_zero and self.is_zero(field.type, raw, value):
                    out.pop(field.name, None)
                else:
                    out[field.name] = value
        return out


def decode_object(raw: bytes) -> dict[str, Any]:
    """Decode a ``k8s\\x00``-prefixed protobuf body into the object's JSON form.

    The result carries ``apiVersion`` and ``kind`` from the envelope.  Raises
    ``UnsupportedKind`` for kinds without a table, ``ValueError`` for anything malformed.
    """
    buf = bytes(raw)
    if not buf.startswith(MAGIC):
        raise ValueError("protobuf body does not start with the Kubernetes magic prefix 'k8s\\x00'")
    envelope = _small_message(buf, (len(MAGIC), len(buf)))
    encoding = _bytes_field(buf, envelope, 3, "Unknown")
    if encoding:
        raise ValueError(f"protobuf body has unsupported contentEncoding {encoding!r}")
    content_type = _bytes_field(buf, envelope, 4, "Unknown")
    if content_type and content_type.decode("utf-8", errors="replace") != CONTENT_TYPE:
        raise ValueError(f"protobuf envelope wraps unsupported contentType {content_type!r}")
    type_meta = envelope.get(1)
    if not isinstance(type_meta, tuple):
        raise ValueError("protobuf envelope has no typeMeta")
    meta = _small_message(buf, type_meta)
    api_version = (_bytes_field(buf, meta, 1, "TypeMeta") or b"").decode("utf-8", errors="replace")
    kind = (_bytes_field(buf, meta, 2, "TypeMeta") or b"").decode("utf-8", errors="replace")
    if not kind:
        raise ValueError("protobuf envelope does not name a kind")
    kinds, messages = _table()
    message = kinds.get(f"{api_version}/{kind}")
    if message is None:
        raise UnsupportedKind(f"no protobuf decoding for kind {kind!r} in apiVersion {api_version!r}")
    span = envelope.get(2, (len(buf), len(buf)))
    if not isinstance(span, tuple):
        raise ValueError("protobuf envelope's raw field is not length-delimited")
    body = _Decoder(buf, messages).message(message, span, 1)
    return {"apiVersion": api_version, "kind": kind, **body}
