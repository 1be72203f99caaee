"""Scheduling helpers every component shares, as Kubernetes' `k8s.io/component-helpers/scheduling/corev1`.

The scheduler, the DaemonSet controller and the taint-eviction controller must agree on which
taints a pod tolerates and which nodes its node selector and node affinity admit; a copy in each
would drift. So the semantics live here once, as pure functions over JSON-shaped objects:

- `taints`: Toleration.ToleratesTaint, FindMatchingUntoleratedTaint, GetMatchingTolerations and
  the tolerationSeconds arithmetic of taint-based eviction, AddOrUpdateTolerationInPodSpec;
- `nodeaffinity`: NodeSelector terms (ORed) of requirements (ANDed), `nodeSelector` maps, and the
  preferred terms' weight sum — GetRequiredNodeAffinity and PreferredSchedulingTerms.

What only one component does (the scheduler's filter messages and scores, the DaemonSet's default
tolerations) stays with it.
"""
