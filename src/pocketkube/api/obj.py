"""`Obj`: a Kubernetes object (or any part of one) as decoded JSON, the one alias every layer uses."""

from __future__ import annotations

from typing import Any, TypeAlias

Obj: TypeAlias = dict[str, Any]

__all__ = ["Obj"]
