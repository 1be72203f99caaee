"""Reading collections: selectors, `limit`/`continue` pagination, resourceVersion semantics.

A continue token is what kube-apiserver sends: base64 of {"v":"meta.k8s.io/v1","rv":R,"start":KEY}.
Every page is read at the first page's revision R, so a paginated list is one consistent snapshot;
once R is compacted the token is too old (410 Expired).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from pocketkube.apiserver import codec
from pocketkube.storage import CompactedError, FutureRevisionError, Store


@dataclass
class ListOptions:
    label_selector: LabelSelector | None = None
    field_selector: FieldSelector | None = None
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""

    @classmethod
    def from_query(cls, resource: ResourceInfo, query: Any) -> ListOptions:
        labels = query.get("labelSelector") or ""
        fields = query.get("fieldSelector") or ""
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise errors.bad_request(f"invalid limit: {query.get('limit')!r}") from None
        return cls(
            label_selector=parse_label_selector(labels) if labels else None,
            field_selector=parse_field_selector(fields, resource) if fields else None,
            limit=max(0, limit),
            continue_token=query.get("continue") or "",
            resource_version=query.get("resourceVersion") or "",
            resource_version_match=query.get("resourceVersionMatch") or "",
        )

    def matches(self, obj: Obj) -> bool:
        if self.label_selector is not None and not self.label_selector.matches(
                (obj.get("metadata") or {}).get("labels")):
            return False
        return self.field_selector is None or self.field_selector.matches(obj)

    @property
    def filtered(self) -> bool:
        return self.label_selector is not None or self.field_selector is not None


@dataclass
class Page:
    items: list[Obj]
    revision: int
    continue_token: str = ""
    remaining: int | None = None


def encode_continue(revision: int, start_after: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start_after})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        revision, start = int(data["rv"]), str(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from None
    if not start.startswith(prefix) or revision <= 0:
        raise errors.bad_request("continue key is not valid: the key does not belong to this list")
    return revision, start


async def list_objects(store: Store, resource: ResourceInfo, namespace: str | None,
                       opts: ListOptions) -> Page:
    prefix = resource.prefix(namespace)
    revision = 0
    start_after = ""
    if opts.continue_token:
        if opts.resource_version:
            raise errors.bad_request("specifying resource version is not allowed when using continue")
        revision, start_after = decode_continue(opts.continue_token, prefix)
    elif opts.resource_version and opts.resource_version != "0":
        try:
            requested = int(opts.resource_version)
        except ValueError:
            raise errors.bad_request(f"invalid resource version: {opts.resource_version}") from None
        if opts.resource_version_match == "Exact":
            revision = requested
        elif opts.resource_version_match not in ("", "NotOlderThan"):
            raise errors.bad_request(f"invalid resourceVersionMatch: {opts.resource_version_match}")
        elif requested > await store.current_revision():
            raise errors.StatusError(504, "Timeout", f"Too large resource version: {requested}, current: "
                                     f"{await store.current_revision()}", {"causes": [
                                         {"reason": "ResourceVersionTooLarge",
                                          "message": "Too large resource version"}], "retryAfterSeconds": 1})
    try:
        return await _read_pages(store, prefix, revision, start_after, opts)
    except CompactedError as exc:
        if opts.continue_token:
            raise errors.StatusError(410, "Expired", "The provided continue parameter is too old to display a "
                                     "consistent list result. You can start a new list without the continue "
                                     "parameter.") from None
        raise errors.gone(f"too old resource version: {exc.requested} ({exc.compacted})") from None
    except FutureRevisionError as exc:
        raise errors.StatusError(504, "Timeout", f"Too large resource version: {exc.requested}, current: "
                                 f"{exc.current}") from None


async def _read_pages(store: Store, prefix: str, revision: int, start_after: str, opts: ListOptions) -> Page:
    """Read until `limit` matching objects are found (a filter may drop many keys per page)."""
    items: list[Obj] = []
    limit = opts.limit
    while True:
        want = limit - len(items) if limit else 0
        batch_limit = max(want, 64) if (limit and opts.filtered) else want
        result = await store.list(prefix, start_after=start_after, limit=batch_limit, revision=revision)
        revision = result.revision
        for index, kv in enumerate(result.items):
            obj = codec.from_store(kv)
            if opts.matches(obj):
                items.append(obj)
                if limit and len(items) == limit:
                    more = result.more or index < len(result.items) - 1
                    if not more:
                        return Page(items, revision)
                    remaining = None
                    if not opts.filtered:
                        remaining = result.remaining + (len(result.items) - index - 1)
                    return Page(items, revision, encode_continue(revision, kv.key), remaining)
        if not result.more or not result.items:
            return Page(items, revision)
        start_after = result.items[-1].key
