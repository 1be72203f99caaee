"""The text of a pod's /etc/hosts and /etc/resolv.conf, as the kubelet and containerd write them (pure).

hosts: the managed header, the localhost/IPv6 boilerplate, one line per pod IP with the hostname
(`<ip>\\t<hostname>.<subdomain>.<ns>.svc.<domain>\\t<hostname>` when a subdomain is set), then the
hostAliases block. A hostNetwork pod gets the node's own hosts file under a different header.

resolv.conf by dnsPolicy: ClusterFirst (and ClusterFirstWithHostNet) uses the cluster DNS servers,
the `<ns>.svc.<domain> svc.<domain> <domain>` search path followed by the host's, and `ndots:5`;
a hostNetwork pod with ClusterFirst, or ClusterFirst without cluster DNS servers, falls back to
Default, which copies the host's servers, search and options; None starts empty. dnsConfig is then
merged (servers and searches appended without duplicates, options overriding by name) and the
kubelet's limits applied (3 servers, 32 search domains of 2048 characters in all).
"""

from __future__ import annotations

from collections.abc import Sequence

from pocketkube.agent.env import Json

MANAGED_HEADER = "# Kubernetes-managed hosts file.\n"
HOST_NETWORK_HEADER = "# Kubernetes-managed hosts file (host network).\n"
MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
DEFAULT_OPTIONS = ("ndots:5",)


def pod_hostname(pod: Json) -> str:
    """spec.hostname, else the pod name cut to 63 characters without a trailing '-' or '.'."""
    spec = pod.get("spec") or {}
    if spec.get("hostname"):
        return str(spec["hostname"])
    name = str((pod.get("metadata") or {}).get("name", ""))
    return name[:63].rstrip("-.") if len(name) > 63 else name


def pod_domain(pod: Json, cluster_domain: str) -> str:
    spec = pod.get("spec") or {}
    if not spec.get("subdomain"):
        return ""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    return f"{spec['subdomain']}.{namespace}.svc.{cluster_domain}"


def _aliases(pod: Json) -> str:
    aliases = (pod.get("spec") or {}).get("hostAliases") or []
    if not aliases:
        return ""
    lines = ["", "# Entries added by HostAliases."]
    lines += [f"{a.get('ip', '')}\t" + "\t".join(a.get("hostnames") or []) for a in aliases]
    return "\n".join(lines) + "\n"


def hosts_file(pod: Json, pod_ip: str | Sequence[str], *, cluster_domain: str = "cluster.local",
               host_hosts_text: str = "") -> str:
    """/etc/hosts for `pod`; `pod_ip` is one address or all of them (podIPs)."""
    if (pod.get("spec") or {}).get("hostNetwork"):
        return HOST_NETWORK_HEADER + host_hosts_text + _aliases(pod)
    ips = [pod_ip] if isinstance(pod_ip, str) else list(pod_ip)
    hostname = pod_hostname(pod)
    domain = pod_domain(pod, cluster_domain)
    out = [MANAGED_HEADER,
           "127.0.0.1\tlocalhost\n",
           "::1\tlocalhost ip6-localhost ip6-loopback\n",
           "fe00::0\tip6-localnet\n",
           "fe00::0\tip6-mcastprefix\n",
           "fe00::1\tip6-allnodes\n",
           "fe00::2\tip6-allrouters\n"]
    for ip in ips:
        if not ip:
            continue
        out.append(f"{ip}\t{hostname}.{domain}\t{hostname}\n" if domain else f"{ip}\t{hostname}\n")
    out.append(_aliases(pod))
    return "".join(out)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) the way the kubelet reads the host's file: the last
    `search` line wins, trailing dots are dropped from search domains."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0]
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.rstrip(".") for s in fields[1:] if s != "."]
        elif fields[0] == "options":
            options = _merge_options(options, [(o.partition(":")[0], o.partition(":")[2]) for o in fields[1:]])
    return servers, searches, options


def _merge_options(existing: Sequence[str], updates: Sequence[tuple[str, str]]) -> list[str]:
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for name, value in updates:
        merged[name] = value
    return [f"{name}:{value}" if value else name for name, value in merged.items()]


def _fit_searches(searches: list[str]) -> list[str]:
    searches = searches[:MAX_SEARCHES]
    while searches and len(" ".join(searches)) > MAX_SEARCH_CHARS:
        searches.pop()
    return searches


def resolv_conf(pod: Json, cluster_dns: Sequence[str], cluster_domain: str = "cluster.local",
                host_resolv_conf_text: str = "") -> str:
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    cluster = (policy == "ClusterFirstWithHostNet") or (policy == "ClusterFirst" and not host_network)
    if cluster and not cluster_dns:
        cluster = False  # the kubelet falls back to Default when it has no cluster DNS to offer
        policy = "Default"
    servers: list[str]
    searches: list[str]
    options: list[str]
    if policy == "None":
        servers, searches, options = [], [], []
    elif cluster:
        _, host_searches, _ = parse_resolv_conf(host_resolv_conf_text)
        namespace = (pod.get("metadata") or {}).get("namespace") or "default"
        servers = list(cluster_dns)
        searches = (_unique([f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain,
                             *host_searches]) if cluster_domain else host_searches)
        options = list(DEFAULT_OPTIONS)
    else:
        servers, searches, options = parse_resolv_conf(host_resolv_conf_text)
    config = spec.get("dnsConfig") or {}
    servers = _unique(servers + list(config.get("nameservers") or []))[:MAX_NAMESERVERS]
    searches = _fit_searches(_unique(searches + list(config.get("searches") or [])))
    options = _merge_options(options, [(str(o.get("name", "")), str(o.get("value") or ""))
                                       for o in config.get("options") or []])
    out = []
    if searches:
        out.append("search " + " ".join(searches) + "\n")
    out += [f"nameserver {server}\n" for server in servers]
    if options:
        out.append("options " + " ".join(options) + "\n")
    return "".join(out)
