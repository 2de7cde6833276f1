"""Label selectors on the client side: match cached objects without asking the apiserver.

Mirrors ``k8s.io/apimachinery/pkg/labels`` (requirements, matching, the query-string form)
and ``metav1.LabelSelectorAsSelector`` (the structured ``matchLabels`` /
``matchExpressions`` form found in workload specs).  The apiserver has its own copy; the
client cannot import it (components reach the cluster only over HTTP), and needs far less.

Contract:

* ``from_label_selector(spec)``: ``None`` selects nothing, ``{}`` selects everything, as in
  Kubernetes (a workload without a selector must not adopt every pod).
* ``parse(text)`` reads what ``?labelSelector=`` accepts: ``k=v``, ``k==v``, ``k!=v``,
  ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, ``k>1``, ``k<1``, joined by commas.  It
  checks the grammar, not the syntax of label keys and values (the apiserver does that).
* ``str(selector)`` is the query-string form, so a ``Selector`` can be passed wherever a
  label selector string is expected; ``parse(str(s))`` selects what ``s`` selects.
* ``!=`` and ``notin`` match objects that lack the key, as in Kubernetes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Operator(StrEnum):
    """A requirement's operator, spelled as in the query-string form."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_STRUCTURED = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Requirement:
    """One condition on one label key."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A value set is a set: keep it sorted and unique, so equal requirements compare equal.
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))
        if not self.key:
            raise ValueError("a label requirement needs a key")
        op = self.operator
        if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and self.values:
            raise ValueError(f"{self.key}: operator {op.value!r} takes no values")
        if op in (Operator.IN, Operator.NOT_IN) and not self.values:
            raise ValueError(f"{self.key}: operator {op.value!r} needs at least one value")
        if op in (Operator.EQUALS, Operator.NOT_EQUALS) and len(self.values) != 1:
            raise ValueError(f"{self.key}: operator {op.value!r} needs exactly one value")
        if op in (Operator.GREATER_THAN, Operator.LESS_THAN) and (
            len(self.values) != 1 or _integer(self.values[0]) is None
        ):
            raise ValueError(f"{self.key}: operator {op.value!r} needs one integer value")

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Tell whether a label set satisfies this requirement."""
        op, present = self.operator, self.key in labels
        value = labels.get(self.key, "")
        if op in (Operator.EQUALS, Operator.IN):
            return present and value in self.values
        if op in (Operator.NOT_EQUALS, Operator.NOT_IN):
            return not present or value not in self.values
        if op is Operator.EXISTS:
            return present
        if op is Operator.DOES_NOT_EXIST:
            return not present
        number, bound = _integer(value) if present else None, int(self.values[0])
        if number is None:
            return False
        return number > bound if op is Operator.GREATER_THAN else number < bound

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op.value} ({','.join(self.values)})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; ``nothing`` makes it match no label set at all."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    def empty(self) -> bool:
        """Tell whether this selector matches every label set."""
        return not self.nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Tell whether a label set (``None`` is no labels) satisfies every requirement."""
        if self.nothing:
            return False
        found = labels or {}
        return all(r.matches(found) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        """Tell whether an object's ``metadata.labels`` satisfy this selector."""
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def __str__(self) -> str:
        if self.nothing:
            raise ValueError("a select-nothing selector has no query-string form")
        return ",".join(str(r) for r in self.requirements)


def everything() -> Selector:
    """Return the selector that matches every label set."""
    return Selector()


def nothing() -> Selector:
    """Return the selector that matches no label set."""
    return Selector(nothing=True)


def _sorted(requirements: Iterable[Requirement]) -> Selector:
    return Selector(requirements=tuple(sorted(requirements, key=lambda r: r.key)))


def from_labels(labels: Mapping[str, str]) -> Selector:
    """Return the selector requiring exactly these key=value pairs."""
    return _sorted(Requirement(k, Operator.EQUALS, (v,)) for k, v in labels.items())


def from_label_selector(spec: Mapping[str, Any] | None) -> Selector:
    """Return the selector a structured ``LabelSelector`` (a workload's ``spec.selector``) means."""
    if spec is None:
        return nothing()
    reqs = [Requirement(k, Operator.EQUALS, (str(v),)) for k, v in (spec.get("matchLabels") or {}).items()]
    for expr in spec.get("matchExpressions") or []:
        op = _STRUCTURED.get(expr.get("operator", ""))
        if op is None:
            raise ValueError(f"{expr.get('key')}: {expr.get('operator')!r} is not a valid selector operator")
        reqs.append(
            Requirement(str(expr.get("key") or ""), op, tuple(str(v) for v in expr.get("values") or ()))
        )
    return _sorted(reqs)


def as_selector(selector: Selector | str | Mapping[str, Any] | None) -> Selector:
    """Return a Selector from any of the forms callers hold; ``None`` selects everything.

    A string is parsed; a mapping is a structured ``LabelSelector``.
    """
    if selector is None:
        return everything()
    if isinstance(selector, Selector):
        return selector
    if isinstance(selector, str):
        return parse(selector)
    return from_label_selector(selector)


# --- the query-string form ------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(!=|==|=|!|<|>|\(|\)|,|[^\s!=<>(),]+)")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise ValueError(f"unable to parse label selector {text!r} at {pos}")
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def _value_set(tokens: list[str], key: str) -> tuple[str, ...]:
    if not tokens or tokens.pop(0) != "(":
        raise ValueError(f"{key}: expected '(' after a set operator")
    values: list[str] = []
    expect_value = True
    while tokens:
        tok = tokens.pop(0)
        if tok == ")":
            if expect_value and values:
                values.append("")  # "a in (x,)" names the empty value, as in Kubernetes
            return tuple(values)
        if tok == ",":
            if expect_value:
                values.append("")
            expect_value = True
            continue
        if not expect_value:
            raise ValueError(f"{key}: expected ',' or ')' in a value set, found {tok!r}")
        values.append(tok)
        expect_value = False
    raise ValueError(f"{key}: a value set is not closed with ')'")


def _requirement(tokens: list[str]) -> Requirement:
    tok = tokens.pop(0)
    if tok == "!":
        if not tokens or not _is_word(tokens[0]):
            raise ValueError("expected a key after '!'")
        return Requirement(tokens.pop(0), Operator.DOES_NOT_EXIST)
    if not _is_word(tok):
        raise ValueError(f"expected a label key, found {tok!r}")
    key = tok
    if not tokens or tokens[0] == ",":
        return Requirement(key, Operator.EXISTS)
    op = tokens.pop(0)
    if op in ("in", "notin"):
        return Requirement(key, Operator(op), _value_set(tokens, key))
    symbols = {
        "=": Operator.EQUALS,
        "==": Operator.EQUALS,
        "!=": Operator.NOT_EQUALS,
        ">": Operator.GREATER_THAN,
        "<": Operator.LESS_THAN,
    }
    if op not in symbols:
        raise ValueError(f"{key}: unknown operator {op!r}")
    value = tokens.pop(0) if tokens and _is_word(tokens[0]) else ""
    return Requirement(key, symbols[op], (value,))


def _is_word(token: str) -> bool:
    return token not in ("!=", "==", "=", "!", "<", ">", "(", ")", ",")


def parse(text: str) -> Selector:
    """Return the selector a query-string label selector means; ``""`` selects everything."""
    tokens = _tokens(text)
    reqs: list[Requirement] = []
    while tokens:
        reqs.append(_requirement(tokens))
        if tokens:
            if tokens.pop(0) != ",":
                raise ValueError(f"unable to parse label selector {text!r}: expected ','")
            if not tokens:
                raise ValueError(f"unable to parse label selector {text!r}: trailing ','")
    return _sorted(reqs)
