"""Parse Kubernetes resource quantities ("100m", "2", "128Mi", "1G", "1e3").

Mirrors ``k8s.io/apimachinery/pkg/api/resource.Quantity`` only as far as the scheduler needs:
a quantity becomes an exact fraction, and the two views the scheduler reads are ``milli_value``
(cpu) and ``value`` (memory, storage, pod counts), both rounded up as Kubernetes rounds them.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_FORM = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


def parse(text: str | int | float) -> Fraction:
    """Return the exact amount a quantity string means; raise ValueError for a malformed one."""
    if isinstance(text, int | float):
        return Fraction(text)
    m = _FORM.match(text.strip())
    if m is None:
        raise ValueError(f"quantities must match the regular expression {_FORM.pattern!r}: {text!r}")
    number, exponent, suffix = Fraction(m.group(1)), m.group(2), m.group(3) or ""
    if exponent:
        return number * Fraction(10) ** int(exponent[1:])
    return number * (_BINARY.get(suffix) or _DECIMAL[suffix])


@lru_cache(maxsize=4096)
def value(text: str | int | float) -> int:
    """Return a quantity as a whole number of units, rounded up (``Quantity.Value``).

    Cached: a scheduling cycle reads the same few request strings once per node.
    """
    return math.ceil(parse(text))


@lru_cache(maxsize=4096)
def milli_value(text: str | int | float) -> int:
    """Return a quantity in thousandths, rounded up (``Quantity.MilliValue``): cpu in millicores."""
    return math.ceil(parse(text) * 1000)
