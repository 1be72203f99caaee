"""One scheduling decision: prepare → filter every node → explain, or score the feasible ones → pick.

Pure over the cache's NodeInfos: `schedule_pod` returns the chosen node, or None with the
FailedScheduling message (the same text goes to the event and the PodScheduled condition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pocketkube.api.obj import Obj
from pocketkube.scheduler import filters, scores
from pocketkube.scheduler.nodeinfo import NodeInfo


@dataclass(frozen=True)
class Decision:
    node: str | None
    message: str = ""


def schedule_pod(pod: Obj, nodes: list[NodeInfo],
                 namespace_labels: Mapping[str, Mapping[str, str]] | None = None) -> Decision:
    if not nodes:
        return Decision(None, filters.NO_NODES)
    state = filters.prepare(pod, nodes, namespace_labels)
    feasible: list[NodeInfo] = []
    failures: dict[str, filters.Failure] = {}
    for info in nodes:
        failure = filters.filter_node(state, info)
        if failure is None:
            feasible.append(info)
        else:
            failures[info.name] = failure
    if not feasible:
        return Decision(None, filters.failure_message(pod, len(nodes), failures))
    if len(feasible) == 1:
        return Decision(feasible[0].name)  # kube skips scoring when only one node fits
    return Decision(scores.pick(scores.score_nodes(state, feasible, nodes)))
