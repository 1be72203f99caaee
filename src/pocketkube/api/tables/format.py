"""Shared formatting for server-side printing: durations, ages, columns, container lists.

`human_duration` is apimachinery's `duration.HumanDuration` rule for rule (kubectl's AGE column), and
`since` is the printers' `translateTimestampSince` (`<unknown>` for a missing timestamp). Column
descriptions come from the OpenAPI schema descriptions — the same Go doc comments kube's printers
read through `SwaggerDoc()` — looked up lazily so importing this module stays cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Cells = list[Any]
Row = Callable[[dict[str, Any], datetime], Cells]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


@dataclass(frozen=True)
class Printer:
    """One kind's table: its columns and a pure function from (object, now) to that row's cells."""

    columns: tuple[Column, ...]
    cells: Row
    conditions: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = field(default=None)


# --- column descriptions ----------------------------------------------------------------------

META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.cache
def doc(definition: str, prop: str) -> str:
    """The schema description of `definition.prop` ("" when the schema lacks it)."""
    from pocketkube.api import schema  # lazy: the definitions are 1.4 MB of JSON

    try:
        node = schema.definitions()[definition]["properties"][prop]
    except KeyError:
        return ""
    return str(node.get("description", ""))


def name_column() -> Column:
    return Column("Name", "string", doc(META, "name"), 0, "name")


def age_column() -> Column:
    return Column("Age", "string", doc(META, "creationTimestamp"))


def wide(name: str, description: str, type_: str = "string") -> Column:
    return Column(name, type_, description, 1)


CONTAINERS = "Names of each container in the template."
IMAGES = "Images referenced by each container in the template."


# --- time ---------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 Time or MicroTime; None for missing or unparseable (Go's zero time)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def human_duration(d: timedelta) -> str:
    """duration.HumanDuration: `5s`, `3m2s`, `10m`, `2h5m`, `26h`, `3d4h`, `20d`, `2y30d`, `<invalid>`."""
    micros = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    # Go's int(d.Seconds()) truncates toward zero; up to 2s into the future still reads as "0s".
    seconds = micros // 1_000_000 if micros >= 0 else -((-micros) // 1_000_000)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(value: Any, now: datetime) -> str:
    """translateTimestampSince: the age of a timestamp, `<unknown>` when it is unset."""
    when = parse_time(value)
    if when is None:
        return "<unknown>"
    return human_duration(_aware(now) - when)


def age(obj: Mapping[str, Any], now: datetime) -> str:
    return since((obj.get("metadata") or {}).get("creationTimestamp"), now)


# --- small pieces -------------------------------------------------------------------------------


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def layout_containers(containers: Sequence[Mapping[str, Any]] | None) -> tuple[str, str]:
    """layoutContainerCells: comma-joined names and images."""
    items = containers or []
    return ",".join(str(c.get("name", "")) for c in items), ",".join(str(c.get("image", "")) for c in items)


def template_containers(template: Mapping[str, Any] | None) -> tuple[str, str]:
    return layout_containers(((template or {}).get("spec") or {}).get("containers"))


def to_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def dig(obj: Mapping[str, Any] | None, *path: str) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
