"""Kubernetes resource quantities (`100m`, `1Gi`, `1e3`, `0.5`), parsed to exact fractions.

A quantity is a signed decimal number with an optional suffix: a binary SI suffix (Ki…Ei), a decimal
SI suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e3, E-2). Values are exact
(`fractions.Fraction`); like apimachinery, anything finer than 1n is rounded up to the next nano.

`canonical()` renders a quantity the way the API server writes it back (`0.5` → `500m`,
`1.5Gi` → `1536Mi`, `2000` → `2k`), which is what users see after a round trip. The suffix family
the user wrote (binary, decimal SI or exponent) is kept, as Kubernetes keeps the format.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

# The wording apimachinery uses when a quantity does not parse.
QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

_QUANTITY = re.compile(r"^([+-]?)([0-9]*\.?[0-9]*)(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_BINARY_SUFFIX = {exp: suffix for suffix, exp in _BINARY.items()}

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_NANO = 10**9


def quantity_text(value: Any) -> str:
    """The text of a quantity as it appears in JSON: strings as-is, bare JSON numbers as written."""
    if isinstance(value, bool):
        raise ValueError(QUANTITY_ERROR)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    raise ValueError(QUANTITY_ERROR)


def parse_quantity_format(value: Any) -> tuple[Fraction, str]:
    """(exact value, format) of a quantity; raises ValueError with apimachinery's message."""
    text = quantity_text(value)
    match = _QUANTITY.match(text)
    if not text or match is None:
        raise ValueError(QUANTITY_ERROR)
    sign, number, suffix = match.groups()
    if not any(c.isdigit() for c in number):
        raise ValueError(QUANTITY_ERROR)
    amount = Fraction(number)
    if suffix in _BINARY:
        amount *= 2 ** _BINARY[suffix]
        fmt = BINARY_SI
    elif suffix in _DECIMAL:
        amount *= Fraction(10) ** _DECIMAL[suffix]
        fmt = DECIMAL_SI
    else:
        exp = _EXPONENT.match(suffix)
        if exp is None:
            raise ValueError(QUANTITY_ERROR)
        amount *= Fraction(10) ** int(exp.group(1))
        fmt = DECIMAL_EXPONENT
    # Precision stops at 1n; finer values round up (away from zero), as apimachinery does.
    if (amount * _NANO).denominator != 1:
        amount = Fraction(math.ceil(amount * _NANO), _NANO)
    return (-amount if sign == "-" else amount), fmt


def parse_quantity(value: Any) -> Fraction:
    """The exact value of a quantity (`"100m"` → 1/10); raises ValueError on invalid input."""
    return parse_quantity_format(value)[0]


def is_quantity(value: Any) -> bool:
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True


def to_millicores(value: Any) -> int:
    """CPU in millicores, rounded up (`"0.5"` → 500, `"1"` → 1000, `"1n"` → 1)."""
    return math.ceil(parse_quantity(value) * 1000)


def to_bytes(value: Any) -> int:
    """A byte count, rounded up (`"1Gi"` → 1073741824, `"129M"` → 129000000)."""
    return math.ceil(parse_quantity(value))


def format_quantity(amount: Fraction, fmt: str = DECIMAL_SI) -> str:
    """Render an exact value in Kubernetes' canonical form for the given format."""
    if amount == 0:
        return "0"
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if fmt == BINARY_SI and magnitude >= 1024 and magnitude.denominator == 1:
        number = int(magnitude)
        exp = 0
        while exp < 60 and number % 1024 == 0:
            number //= 1024
            exp += 10
        return f"{sign}{number}{_BINARY_SUFFIX.get(exp, '')}"
    # Largest power of 1000 (down to nano) that leaves an integer mantissa.
    if (magnitude * _NANO).denominator != 1:
        magnitude = Fraction(math.ceil(magnitude * _NANO), _NANO)
    exp = -9
    mantissa = magnitude * _NANO
    while mantissa.denominator == 1 and mantissa % 1000 == 0:
        mantissa /= 1000
        exp += 3
    number = int(mantissa)
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{number}" + (f"e{exp}" if exp else "")
    if exp in _DECIMAL_SUFFIX:
        return f"{sign}{number}{_DECIMAL_SUFFIX[exp]}"
    return f"{sign}{number}e{exp}"


def canonical(value: Any) -> str:
    """The canonical text of a quantity, as the API server stores and returns it."""
    amount, fmt = parse_quantity_format(value)
    return format_quantity(amount, fmt)
