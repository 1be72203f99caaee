"""Pod volumes: unique DNS-1123 names, exactly one source each, and each source's own fields."""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import duplicate, forbidden, invalid_value, not_supported, required
from pocketkube.api.quantity import QUANTITY_ERROR, is_quantity
from pocketkube.api.validation import names
from pocketkube.api.validation.common import Errors, as_dict, as_list, child, format_errors, index
from pocketkube.api.validation.containers import validate_field_ref

_HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                    "Socket"]
_MODE_MESSAGE = "must be a number between 0 and 0777 (octal), both inclusive"


def _mode(value: Any, path: str) -> Errors:
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0o777:
        return [invalid_value(path, value, _MODE_MESSAGE)]
    return []


def _items(items: Any, path: str) -> Errors:
    errs: Errors = []
    for i, item in enumerate(as_list(items)):
        item = as_dict(item)
        item_path = index(path, i)
        if not item.get("key"):
            errs.append(required(child(item_path, "key"), ""))
        errs += _relative_path(item.get("path"), child(item_path, "path"))
        errs += _mode(item.get("mode"), child(item_path, "mode"))
    return errs


def _relative_path(target: Any, path: str) -> Errors:
    if not target:
        return [required(path, "")]
    text = str(target)
    errs: Errors = []
    if text.startswith("/"):
        errs.append(invalid_value(path, target, "must be a relative path"))
    if ".." in text.split("/"):
        errs.append(invalid_value(path, target, "must not contain '..'"))
    return errs


def _downward_items(items: Any, path: str) -> Errors:
    errs: Errors = []
    for i, item in enumerate(as_list(items)):
        item = as_dict(item)
        item_path = index(path, i)
        errs += _relative_path(item.get("path"), child(item_path, "path"))
        errs += _mode(item.get("mode"), child(item_path, "mode"))
        if item.get("fieldRef") is not None:
            errs += validate_field_ref(as_dict(item["fieldRef"]), child(item_path, "fieldRef"))
    return errs


def _source(kind: str, source: dict[str, Any], path: str) -> Errors:
    errs: Errors = []
    if kind == "emptyDir":
        errs += not_supported_medium(source.get("medium"), child(path, "medium"))
        if source.get("sizeLimit") is not None and not is_quantity(source["sizeLimit"]):
            errs.append(invalid_value(child(path, "sizeLimit"), source["sizeLimit"], QUANTITY_ERROR))
    elif kind == "hostPath":
        if not source.get("path"):
            errs.append(required(child(path, "path"), ""))
        if source.get("type") not in _HOST_PATH_TYPES and source.get("type") is not None:
            errs.append(not_supported(child(path, "type"), source["type"], _HOST_PATH_TYPES))
    elif kind == "configMap":
        if not source.get("name"):
            errs.append(required(child(path, "name"), ""))
        errs += _mode(source.get("defaultMode"), child(path, "defaultMode"))
        errs += _items(source.get("items"), child(path, "items"))
    elif kind == "secret":
        if not source.get("secretName"):
            errs.append(required(child(path, "secretName"), ""))
        errs += _mode(source.get("defaultMode"), child(path, "defaultMode"))
        errs += _items(source.get("items"), child(path, "items"))
    elif kind == "persistentVolumeClaim":
        if not source.get("claimName"):
            errs.append(required(child(path, "claimName"), ""))
    elif kind == "downwardAPI":
        errs += _mode(source.get("defaultMode"), child(path, "defaultMode"))
        errs += _downward_items(source.get("items"), child(path, "items"))
    elif kind == "projected":
        errs += _mode(source.get("defaultMode"), child(path, "defaultMode"))
        for i, projection in enumerate(as_list(source.get("sources"))):
            projection = as_dict(projection)
            proj_path = index(child(path, "sources"), i)
            token = projection.get("serviceAccountToken")
            if isinstance(token, dict):
                errs += _relative_path(token.get("path"), child(child(proj_path, "serviceAccountToken"), "path"))
                seconds = token.get("expirationSeconds")
                if seconds is not None and (not isinstance(seconds, int) or seconds < 600):
                    errs.append(invalid_value(child(child(proj_path, "serviceAccountToken"), "expirationSeconds"),
                                              seconds, "may not specify a duration less than 10 minutes"))
            for ref_kind in ("configMap", "secret"):
                if isinstance(projection.get(ref_kind), dict):
                    errs += _items(projection[ref_kind].get("items"), child(child(proj_path, ref_kind), "items"))
            if isinstance(projection.get("downwardAPI"), dict):
                errs += _downward_items(projection["downwardAPI"].get("items"),
                                        child(child(proj_path, "downwardAPI"), "items"))
    return errs


def not_supported_medium(medium: Any, path: str) -> Errors:
    allowed = ["", "Memory", "HugePages"]
    if medium in (None, "") or medium in allowed or str(medium).startswith("HugePages-"):
        return []
    return [not_supported(path, medium, allowed)]


def validate_volumes(volumes: Any, path: str) -> tuple[set[str], Errors]:
    """The set of volume names (for mounts to refer to) and the errors found."""
    errs: Errors = []
    seen: set[str] = set()
    for i, volume in enumerate(as_list(volumes)):
        volume = as_dict(volume)
        volume_path = index(path, i)
        name = volume.get("name")
        if not name:
            errs.append(required(child(volume_path, "name"), ""))
        else:
            errs += format_errors(child(volume_path, "name"), name, names.dns1123_label(str(name)))
            if name in seen:
                errs.append(duplicate(child(volume_path, "name"), name))
            seen.add(str(name))
        sources = [k for k, v in volume.items() if k != "name" and v is not None]
        if not sources:
            errs.append(required(volume_path, "must specify a volume type"))
            continue
        for extra in sources[1:]:
            errs.append(forbidden(child(volume_path, extra), "may not specify more than 1 volume type"))
        errs += _source(sources[0], as_dict(volume[sources[0]]), child(volume_path, sources[0]))
    return seen, errs
