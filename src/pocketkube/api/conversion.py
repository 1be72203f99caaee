"""Conversion between the stored form of a kind and the API version a client speaks.

Only events need it: core/v1 and events.k8s.io/v1 Events are one stored object (kept in core
form) seen through two APIs whose field names differ, as in kube-apiserver.
"""

from __future__ import annotations

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo

# events.k8s.io/v1 field → core/v1 field
_EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_CORE_FIELDS = {core: ext for ext, core in _EVENT_FIELDS.items()}


def needs_conversion(resource: ResourceInfo) -> bool:
    return resource.group == "events.k8s.io"


def stored_resource(resource: ResourceInfo) -> ResourceInfo:
    """The resource whose form is stored: events.k8s.io Events are stored as core Events."""
    if needs_conversion(resource):
        core = resources.lookup("", "v1", resource.plural)
        assert core is not None
        return core
    return resource


def _rename(obj: Obj, names: dict[str, str], api_version: str) -> Obj:
    out = {names.get(key, key): value for key, value in obj.items()}
    out["apiVersion"] = api_version
    out["kind"] = "Event"
    return out


def to_external(resource: ResourceInfo, obj: Obj) -> Obj:
    """Stored (core) form → the form of `resource`'s API version."""
    if not needs_conversion(resource):
        return obj
    return _rename(obj, _CORE_FIELDS, resource.api_version)


def to_internal(resource: ResourceInfo, obj: Obj) -> Obj:
    """A client's object in `resource`'s API version → the stored (core) form."""
    if not needs_conversion(resource):
        return obj
    return _rename(obj, _EVENT_FIELDS, "v1")
