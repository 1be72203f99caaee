"""Patches and field management, pure functions over JSON-shaped objects.

* `apply_json_patch` — RFC 6902 (`application/json-patch+json`);
* `apply_merge_patch` — RFC 7386 (`application/merge-patch+json`);
* `apply_strategic_merge_patch` — Kubernetes' strategic merge patch, driven by the schema
  extensions that `typed` reads;
* `server_side_apply` and `update_managed_fields` — server-side apply and the managedFields
  bookkeeping of ordinary writes, on field sets from `fieldpath`.
"""

from pocketkube.api.patch.apply import server_side_apply
from pocketkube.api.patch.json_patch import apply_json_patch
from pocketkube.api.patch.managed_fields import update_managed_fields
from pocketkube.api.patch.merge_patch import apply_merge_patch
from pocketkube.api.patch.strategic import apply_strategic_merge_patch

__all__ = [
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "server_side_apply",
    "update_managed_fields",
]
