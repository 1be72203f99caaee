"""The NodeAffinity plugin: `nodeSelector` and `affinity.nodeAffinity` as a filter and a score.

What matches is `pocketkube.api.scheduling.nodeaffinity` (shared with the DaemonSet controller);
this module is the plugin around it: the filter's reason, and the preferred terms' weight sum as
the score before normalising.
"""

from __future__ import annotations

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.nodeaffinity import (
    PreferredSchedulingTerms,
    RequiredNodeAffinity,
    has_preferred_terms,
)

REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def _spec(pod: Obj) -> Obj:
    return pod.get("spec") or {}


def required_affinity(pod: Obj) -> RequiredNodeAffinity:
    """The pod's nodeSelector and required node affinity, parsed once per scheduling cycle."""
    return RequiredNodeAffinity.of(_spec(pod))


def preferred_terms(pod: Obj) -> PreferredSchedulingTerms:
    """The pod's weighted preferred terms; `.score(labels, node_name)` is the plugin's raw score."""
    return PreferredSchedulingTerms.of(_spec(pod))


def has_preferred(pod: Obj) -> bool:
    return has_preferred_terms(_spec(pod))
