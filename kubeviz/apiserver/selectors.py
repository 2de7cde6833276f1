"""Label and field selectors: parsing the query strings and matching objects against them.

Mirrors ``k8s.io/apimachinery/pkg/labels`` (selector grammar, requirement validation and
matching), ``metav1.LabelSelectorAsSelector`` (the structured ``matchLabels`` /
``matchExpressions`` form) and ``k8s.io/apimachinery/pkg/fields`` together with the
per-kind field label conversions and ``ToSelectableFields`` of ``pkg/registry``.

Contract:

* ``parse_label_selector(text)`` accepts what kube-apiserver accepts in ``?labelSelector=``:
  ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, ``k>1``,
  ``k<1``, joined by commas (AND) with free whitespace; ``""`` selects everything.  Keys and
  values are validated as label keys/values.  Any error is an ``APIError`` 400 BadRequest
  whose message reads like kube's (``unable to parse requirement: ...``).
* ``selector_from_label_selector_object(sel)`` turns a spec's structured selector into the
  same ``LabelSelector``; ``None`` selects nothing, ``{}`` selects everything.
* ``parse_field_selector(text, resource=...)`` accepts ``f=v``, ``f==v``, ``f!=v`` joined by
  commas (values may escape ``\\``, ``,`` and ``=`` with a backslash), only for the fields
  the resource supports.  An unknown field fails with kube's default message
  ``"<f>" is not a known field selector: only "metadata.name", ...`` listing every field
  that resource accepts (kube itself says ``field label not supported: <f>`` for the kinds
  with their own conversion; one message is kept here for all of them).
* ``str()`` of either selector is the canonical form kube prints (``FormatLabelSelector``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubeviz.apiserver.errors import APIError, bad_request
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.validation.metadata import label_value_errors, qualified_name_errors

_INT64_RE = re.compile(r"^[+-]?[0-9]+$")


def _invalid(path: str, value: Any, detail: str) -> str:
    """Word one field error like ``field.Invalid(...).Error()``."""
    shown = json.dumps(value) if isinstance(value, str | list) else str(value)
    body = f"Invalid value: {shown}: {detail}"
    return f"{path}: {body}" if path else body


def _aggregate(errors: list[str]) -> str:
    """Join several errors like ``utilerrors.NewAggregate``: one plain, many bracketed."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# ----------------------------------------------------------------------------------------
# Label selectors
# ----------------------------------------------------------------------------------------


class Op(StrEnum):
    """A label requirement operator, spelled as ``selection.Operator``."""

    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_SET_OPS = (Op.IN, Op.NOT_IN)
_EXACT_OPS = (Op.EQUALS, Op.DOUBLE_EQUALS, Op.NOT_EQUALS)
_UNARY_OPS = (Op.EXISTS, Op.DOES_NOT_EXIST)
_NUMERIC_OPS = (Op.GREATER_THAN, Op.LESS_THAN)
_BINARY_OPS = "in, notin, =, ==, !=, gt, lt"
_STRUCTURED_OPS = {"In": Op.IN, "NotIn": Op.NOT_IN, "Exists": Op.EXISTS, "DoesNotExist": Op.DOES_NOT_EXIST}


def _int64(text: str) -> int | None:
    """Parse a base-10 int64 as ``strconv.ParseInt`` would, or return None."""
    if not _INT64_RE.match(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


@dataclass(frozen=True)
class Requirement:
    """One ``key <op> values`` term of a label selector; values are sorted and unique."""

    key: str
    op: Op
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Tell whether a label set satisfies this requirement."""
        present = self.key in labels
        if self.op in (Op.IN, Op.EQUALS, Op.DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if self.op in (Op.NOT_IN, Op.NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if self.op is Op.EXISTS:
            return present
        if self.op is Op.DOES_NOT_EXIST:
            return not present
        if not present or len(self.values) != 1:
            return False
        have, want = _int64(labels[self.key]), _int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if self.op is Op.GREATER_THAN else have < want

    def __str__(self) -> str:
        if self.op is Op.EXISTS:
            return self.key
        if self.op is Op.DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.op in _SET_OPS:
            return f"{self.key} {self.op.value} ({','.join(self.values)})"
        symbol = {Op.GREATER_THAN: ">", Op.LESS_THAN: "<"}.get(self.op, self.op.value)
        return f"{self.key}{symbol}{','.join(self.values)}"


def make_requirement(key: str, op: Op, values: Iterable[str] = (), *, path: str = "") -> Requirement:
    """Build a requirement, validating key, values and arity as ``labels.NewRequirement``.

    ``path`` prefixes the field paths in error messages (``key``, ``values[0]``).
    Raises ``APIError`` 400 on any problem.
    """
    vals = list(values)
    prefix = f"{path}." if path else ""
    errors: list[str] = []
    if key_errs := qualified_name_errors(key):
        errors.append(_invalid(f"{prefix}key", key, "; ".join(key_errs)))
    values_path = f"{prefix}values"
    if op in _SET_OPS and not vals:
        errors.append(_invalid(values_path, vals, "for 'in', 'notin' operators, values set can't be empty"))
    elif op in _EXACT_OPS and len(vals) != 1:
        errors.append(_invalid(values_path, vals, "exact-match compatibility requires one single value"))
    elif op in _UNARY_OPS and vals:
        errors.append(_invalid(values_path, vals, "values set must be empty for exists and does not exist"))
    elif op in _NUMERIC_OPS:
        if len(vals) != 1:
            errors.append(
                _invalid(values_path, vals, "for 'Gt', 'Lt' operators, exactly one value is required")
            )
        for i, v in enumerate(vals):
            if _int64(v) is None:
                errors.append(
                    _invalid(
                        f"{values_path}[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    for i, v in enumerate(vals):
        if value_errs := label_value_errors(v):
            errors.append(_invalid(f"{values_path}[{i}]", v, "; ".join(value_errs)))
    if errors:
        raise bad_request(_aggregate(errors))
    return Requirement(key, op, tuple(sorted(set(vals))))


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of label requirements; ``nothing`` marks the selector matching no object."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """Tell whether this selector matches every object."""
        return not self.requirements and not self.nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Tell whether a label set (``metadata.labels``, possibly None) is selected."""
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _sorted_selector(requirements: Iterable[Requirement]) -> LabelSelector:
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


# --- the query-string grammar ------------------------------------------------------------

_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS = frozenset({"=", "==", "!=", "!", "(", ")", ",", ">", "<"})
_KEYWORDS = frozenset({"in", "notin"})
_IDENT = "identifier"
_END = "end of string"
_ERROR = "error"
_SYMBOL_OPS = {
    "=": Op.EQUALS,
    "==": Op.DOUBLE_EQUALS,
    "!=": Op.NOT_EQUALS,
    ">": Op.GREATER_THAN,
    "<": Op.LESS_THAN,
}


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Split a selector into (kind, literal) tokens, ending with the end-of-string token.

    A word is any run of characters that are neither whitespace nor one of ``=!(),><``;
    ``in`` and ``notin`` are keywords.  Symbols are read greedily (``!=``, ``==``).
    """
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch in _SPECIAL:
            j, best = i, ""
            while j < n and text[j] in _SPECIAL:
                j += 1
                if text[i:j] in _SYMBOLS:
                    best = text[i:j]
                elif best:
                    break
            if not best:
                tokens.append((_ERROR, f"error expected: keyword found '{text[i:j]}'"))
                i = j
            else:
                tokens.append((best, best))
                i += len(best)
        else:
            j = i
            while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
                j += 1
            word = text[i:j]
            tokens.append((word if word in _KEYWORDS else _IDENT, word))
            i = j
    tokens.append((_END, ""))
    return tokens


class _SyntaxError(Exception):
    """A parse failure inside one requirement (wrapped as ``unable to parse requirement``)."""


class _Parser:
    """Recursive-descent reader over the token list, one requirement at a time."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self, *, values: bool = True) -> tuple[str, str]:
        """Return the next token; in a values position ``in``/``notin`` are plain words."""
        kind, lit = self.tokens[self.pos]
        if values and kind in _KEYWORDS:
            kind = _IDENT
        return kind, lit

    def take(self, *, values: bool = True) -> tuple[str, str]:
        """Consume and return the next token."""
        tok = self.peek(values=values)
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return tok

    def selector(self) -> LabelSelector:
        """Read the whole text as comma-separated requirements."""
        found: list[Requirement] = []
        while True:
            kind, lit = self.peek()
            if kind == _END:
                return _sorted_selector(found)
            if kind not in (_IDENT, "!"):
                raise bad_request(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                found.append(self.requirement())
            except _SyntaxError as exc:
                raise bad_request(f"unable to parse requirement: {exc}") from None
            except APIError as exc:
                raise bad_request(f"unable to parse requirement: {exc.message}") from None
            kind, lit = self.take()
            if kind == _END:
                return _sorted_selector(found)
            if kind != ",":
                raise bad_request(f"found '{lit}', expected: ',' or 'end of string'")
            kind, lit = self.peek()
            if kind not in (_IDENT, "!"):
                raise bad_request(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        """Read ``[!]key [op values]``."""
        kind, lit = self.take()
        negated = kind == "!"
        if negated:
            kind, lit = self.take()
        if kind != _IDENT:
            raise _SyntaxError(f"found '{lit}', expected: identifier")
        if key_errs := qualified_name_errors(lit):
            raise _SyntaxError(_invalid("", lit, "; ".join(key_errs)))
        key = lit
        if negated:
            return make_requirement(key, Op.DOES_NOT_EXIST)
        if self.peek()[0] in (_END, ","):
            return make_requirement(key, Op.EXISTS)
        kind, lit = self.take(values=False)
        if kind == "in" or kind == "notin":
            op = Op.IN if kind == "in" else Op.NOT_IN
            return make_requirement(key, op, self.value_set())
        if kind in _SYMBOL_OPS:
            return make_requirement(key, _SYMBOL_OPS[kind], [self.exact_value()])
        raise _SyntaxError(f"found '{lit}', expected: {_BINARY_OPS}")

    def exact_value(self) -> str:
        """Read the single value after ``=``, ``==``, ``!=``, ``>``, ``<`` (may be empty)."""
        if self.peek()[0] in (_END, ","):
            return ""
        kind, lit = self.take()
        if kind != _IDENT:
            raise _SyntaxError(f"found '{lit}', expected: identifier")
        return lit

    def value_set(self) -> list[str]:
        """Read ``( v1, v2, ... )``; empty slots such as ``()`` or ``(a,)`` mean ``""``."""
        kind, lit = self.take()
        if kind != "(":
            raise _SyntaxError(f"found '{lit}' expected: '('")
        kind, lit = self.peek()
        if kind == ")":
            self.take()
            return [""]
        if kind not in (_IDENT, ","):
            raise _SyntaxError(f"found '{lit}', expected: ',', ')' or identifier")
        values: list[str] = []
        expect_value = True
        while True:
            kind, lit = self.take()
            if kind == _IDENT and expect_value:
                values.append(lit)
                expect_value = False
                nxt, nlit = self.peek()
                if nxt not in (",", ")"):
                    raise _SyntaxError(f"found '{nlit}', expected: ',' or ')'")
            elif kind == ",":
                if expect_value:
                    values.append("")
                expect_value = True
                if self.peek()[0] == ")":
                    values.append("")
            elif kind == ")":
                return values
            else:
                raise _SyntaxError(f"found '{lit}', expected: ',', or identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``?labelSelector=`` string; raise ``APIError`` 400 on a syntax or value error."""
    return _Parser(text or "").selector()


def selector_from_label_selector_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    """Convert a spec's ``{matchLabels, matchExpressions}`` selector.

    ``None`` selects nothing, an empty selector selects everything (as
    ``metav1.LabelSelectorAsSelector``).  Raises ``APIError`` 400 on a bad operator, key
    or value.
    """
    if sel is None:
        return LabelSelector(nothing=True)
    found: list[Requirement] = []
    for key, value in (sel.get("matchLabels") or {}).items():
        found.append(make_requirement(key, Op.EQUALS, [value]))
    for expr in sel.get("matchExpressions") or []:
        operator = expr.get("operator", "")
        if operator not in _STRUCTURED_OPS:
            raise bad_request(f'"{operator}" is not a valid label selector operator')
        found.append(
            make_requirement(expr.get("key", ""), _STRUCTURED_OPS[operator], expr.get("values") or [])
        )
    return _sorted_selector(found)


# ----------------------------------------------------------------------------------------
# Field selectors
# ----------------------------------------------------------------------------------------

Getter = Callable[[Mapping[str, Any]], str]


def _dig(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = obj
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _text(*path: str) -> Getter:
    """Read a string field; absent reads as ``""``."""

    def get(obj: Mapping[str, Any]) -> str:
        value = _dig(obj, path)
        return "" if value is None else str(value)

    return get


def _flag(*path: str) -> Getter:
    """Read a boolean field as ``strconv.FormatBool`` does; absent reads as ``"false"``."""
    return lambda obj: "true" if _dig(obj, path) is True else "false"


def _count(*path: str) -> Getter:
    """Read an integer field; absent reads as ``"0"``."""
    return lambda obj: str(int(_dig(obj, path) or 0))


def _first(*getters: Getter) -> Getter:
    """Read the first non-empty of several fields."""
    return lambda obj: next((v for g in getters if (v := g(obj))), "")


def _pod_ip(obj: Mapping[str, Any]) -> str:
    """Read ``status.podIP``, falling back to the first of ``status.podIPs``."""
    ips = _dig(obj, ("status", "podIPs")) or []
    return _text("status", "podIP")(obj) or (str(ips[0].get("ip", "")) if ips else "")


_OBJECT_REFERENCE_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def _event_fields(ref: str, reporter: str, source: str) -> dict[str, Getter]:
    """Build the event field getters for one event schema (core v1 or events.k8s.io/v1)."""
    out = {f"involvedObject.{p}": _text(ref, p) for p in _OBJECT_REFERENCE_FIELDS}
    out["reason"] = _text("reason")
    out["reportingComponent"] = _text(reporter)
    out["source"] = _first(_text(source, "component"), _text(reporter))
    out["type"] = _text("type")
    return out


# Selectable fields beyond metadata.name/namespace, per (group, resource), in kube's order.
_FIELDS: dict[tuple[str, str], dict[str, Getter]] = {
    ("", "pods"): {
        "spec.nodeName": _text("spec", "nodeName"),
        "spec.restartPolicy": _text("spec", "restartPolicy"),
        "spec.schedulerName": _text("spec", "schedulerName"),
        "spec.serviceAccountName": _text("spec", "serviceAccountName"),
        "spec.hostNetwork": _flag("spec", "hostNetwork"),
        "status.phase": _text("status", "phase"),
        "status.podIP": _pod_ip,
        "status.nominatedNodeName": _text("status", "nominatedNodeName"),
    },
    ("", "events"): _event_fields("involvedObject", "reportingComponent", "source"),
    ("events.k8s.io", "events"): _event_fields("regarding", "reportingController", "deprecatedSource"),
    ("", "secrets"): {"type": _text("type")},
    ("", "nodes"): {"spec.unschedulable": _flag("spec", "unschedulable")},
    ("", "namespaces"): {"status.phase": _text("status", "phase")},
    ("apps", "replicasets"): {"status.replicas": _count("status", "replicas")},
    ("batch", "jobs"): {"status.successful": _count("status", "succeeded")},
}

# Other spellings accepted for a field: listed ones appear in the error message.
_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("events.k8s.io", "events"): {
        **{f"regarding.{p}": f"involvedObject.{p}" for p in _OBJECT_REFERENCE_FIELDS},
        "reportingController": "reportingComponent",
    },
}
_LEGACY_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("", "pods"): {"spec.host": "spec.nodeName"},
}


def _getters(resource: Resource) -> dict[str, Getter]:
    """Return every canonical selectable field of a resource with its reader."""
    namespace = _text("metadata", "namespace") if resource.namespaced else (lambda obj: "")
    return {"metadata.name": _text("metadata", "name"), "metadata.namespace": namespace} | _FIELDS.get(
        resource.key(), {}
    )


def _aliases(resource: Resource) -> dict[str, str]:
    return _ALIASES.get(resource.key(), {}) | _LEGACY_ALIASES.get(resource.key(), {})


def supported_fields(resource: Resource) -> list[str]:
    """Return the field selector names a resource accepts, as listed in error messages."""
    return [*_getters(resource), *_ALIASES.get(resource.key(), {})]


@dataclass(frozen=True)
class FieldRequirement:
    """One ``field=value`` (or ``field!=value``) term, with the field's canonical name."""

    field: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'!=' if self.negated else '='}{escaped}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field requirements for one resource."""

    requirements: tuple[FieldRequirement, ...] = ()
    getters: Mapping[str, Getter] = field(default_factory=dict, repr=False, compare=False)
    aliases: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        """Tell whether this selector matches every object."""
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Tell whether an object (as stored JSON) satisfies every requirement."""
        return all((self.getters[r.field](obj) == r.value) != r.negated for r in self.requirements)

    def exact(self, name: str) -> str | None:
        """Return the value an equality requirement demands of field ``name``, or None."""
        name = self.aliases.get(name, name)
        return next((r.value for r in self.requirements if r.field == name and not r.negated), None)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not preceded by an escaping backslash."""
    parts, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _unescape(value: str) -> str:
    """Undo ``\\\\``, ``\\,`` and ``\\=``; any other escape or a bare ``,``/``=`` is an error."""
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise bad_request(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    if escaped:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


_FIELD_OPS = ("!=", "==", "=")


def _split_term(term: str) -> tuple[str, str, str] | None:
    """Cut a term at its first operator: (field, operator, raw value)."""
    for i in range(len(term)):
        for op in _FIELD_OPS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse_field_selector(text: str, *, resource: Resource) -> FieldSelector:
    """Parse a ``?fieldSelector=`` string for ``resource``; raise ``APIError`` 400 on error.

    As in kube, the whole string is checked for syntax before any field name is looked up.
    """
    terms: list[tuple[str, str, str]] = []
    for term in _split_unescaped(text or "", ","):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        name, op, raw = split
        terms.append((name, op, _unescape(raw)))
    getters = _getters(resource)
    aliases = _aliases(resource)
    found: list[FieldRequirement] = []
    for name, op, value in terms:
        canonical = aliases.get(name, name)
        if canonical not in getters:
            listed = ", ".join(f'"{f}"' for f in supported_fields(resource))
            raise bad_request(f'"{name}" is not a known field selector: only {listed}')
        found.append(FieldRequirement(canonical, value, negated=op == "!="))
    found.sort(key=lambda r: (r.field, r.negated, r.value))
    return FieldSelector(tuple(found), getters, aliases)
