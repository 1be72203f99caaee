"""String formats, cron schedules and quantities."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest

from pocketkube.api.quantity import canonical, parse_quantity, to_bytes, to_millicores
from pocketkube.api.validation import names
from pocketkube.api.validation.cron import parse_schedule


@pytest.mark.parametrize("check, value, valid", [
    (names.dns1123_label, "my-name", True),
    (names.dns1123_label, "123-abc", True),
    (names.dns1123_label, "My-name", False),
    (names.dns1123_label, "-abc", False),
    (names.dns1123_label, "a" * 64, False),
    (names.dns1123_subdomain, "example.com", True),
    (names.dns1123_subdomain, "example..com", False),
    (names.dns1035_label, "abc-123", True),
    (names.dns1035_label, "1abc", False),
    (names.qualified_name, "example.com/MyName", True),
    (names.qualified_name, "my.name", True),
    (names.qualified_name, "a/b/c", False),
    (names.qualified_name, "Example.com/x", False),
    (names.label_value, "", True),
    (names.label_value, "my_value", True),
    (names.label_value, "v_", False),
    (names.port_name, "http", True),
    (names.port_name, "http-alt", True),
    (names.port_name, "8080", False),
    (names.port_name, "web--ui", False),
    (names.port_name, "HTTP", False),
    (names.port_name, "sixteen-chars-xx", False),
    (names.config_key, "key.name", True),
    (names.config_key, "KEY_NAME", True),
    (names.config_key, "a/b", False),
    (names.config_key, "..a", False),
    (names.env_var_name, "MY_VAR", True),
    (names.env_var_name, "1st.var-name", True),
    (names.env_var_name, "A=B", False),
    (names.env_var_name, "", False),
    (names.percent, "25%", True),
    (names.percent, "25", False),
])
def test_formats(check: Callable[[str], list[str]], value: str, valid: bool) -> None:
    assert (check(value) == []) is valid


def test_port_name_messages() -> None:
    assert names.port_name("8080") == ["must contain at least one letter (a-z)"]
    assert names.port_name("-a") == ["must not begin or end with a hyphen"]


@pytest.mark.parametrize("spec", [
    "* * * * *", "*/15 0-6 1,15 jan-mar mon-fri", "0 0 * * SUN", "5/10 * ? * *", "@hourly", "@weekly",
    "@every 1h30m", "59 23 31 12 6",
])
def test_cron_valid(spec: str) -> None:
    parse_schedule(spec)


@pytest.mark.parametrize("spec, message", [
    ("", "empty spec string"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("* * * * 7", "end of range (7) above maximum (6): 7"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
])
def test_cron_invalid(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_schedule(spec)
    assert str(info.value) == message


def test_cron_sets() -> None:
    schedule = parse_schedule("*/20 9-17/4 * * mon,fri")
    assert schedule.minutes == {0, 20, 40}
    assert schedule.hours == {9, 13, 17}
    assert schedule.days_of_week == {1, 5}
    assert schedule.dom_star and not schedule.dow_star


@pytest.mark.parametrize("text, value, canon", [
    ("100m", Fraction(1, 10), "100m"),
    ("1Gi", 2**30, "1Gi"),
    ("1e3", 1000, "1e3"),
    ("0.5", Fraction(1, 2), "500m"),
    ("128974848", 128974848, "128974848"),
    ("129M", 129_000_000, "129M"),
    ("123Mi", 123 * 2**20, "123Mi"),
    ("1.5Gi", 3 * 2**29, "1536Mi"),
    ("0.5Ki", 512, "512"),
    ("2000", 2000, "2k"),
    ("1n", Fraction(1, 10**9), "1n"),
    ("0.0000000001", Fraction(1, 10**9), "1n"),
    ("-1Gi", -(2**30), "-1Gi"),
    (2, 2, "2"),
    (0.25, Fraction(1, 4), "250m"),
    ("0", 0, "0"),
])
def test_quantity(text: object, value: Fraction, canon: str) -> None:
    assert parse_quantity(text) == value
    assert canonical(text) == canon


@pytest.mark.parametrize("text", ["", ".", "1KB", "1 Gi", "abc", "1mi", "e3", "Gi", "1.2.3", True, None])
def test_quantity_invalid(text: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_units() -> None:
    assert to_millicores("250m") == 250
    assert to_millicores("1.5") == 1500
    assert to_millicores("1n") == 1
    assert to_bytes("1Gi") == 1073741824
    assert to_bytes("1.5k") == 1500
