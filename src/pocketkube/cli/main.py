"""The `pocketkube` command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from pocketkube.cli.image import image

DEFAULT_DATA_DIR = "/var/lib/pocketkube"
DEFAULT_LISTEN = "127.0.0.1:6443"


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter(f"expected ADDR:PORT, got {listen!r}", param_hint="--listen")
    return host.strip("[]"), int(port)


def _hostname() -> str:
    import socket

    return socket.gethostname().lower().split(".")[0]


def agent_options(command: Callable[..., None]) -> Callable[..., None]:
    """The node agent's options, shared by `server` and `agent`."""
    for option in reversed([
        click.option("--node-name", default="", help="the Node's name (default: this host's name)"),
        click.option("--node-ip", default="127.0.0.1", show_default=True,
                     help="the node's InternalIP; the agent's HTTPS endpoint listens there"),
        click.option("--kubelet-port", default=10250, show_default=True, help="the agent's HTTPS port"),
        click.option("--pod-cidr", default="10.244.0.0/24", show_default=True, help="this node's pod addresses"),
        click.option("--cluster-cidr", default="10.244.0.0/16", show_default=True, help="every node's pod range"),
        click.option("--bridge", default="pk0", show_default=True, help="the host bridge pods attach to"),
    ]):
        command = option(command)
    return command


@click.group()
@click.version_option(package_name="pocketkube")
def main() -> None:
    """Real Kubernetes pods on one Linux machine."""


@main.command()
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True, type=click.Path(path_type=Path))
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, help="ADDR:PORT for the HTTPS API")
@click.option("--store", "store_url", default="", help="store URL (default sqlite://DATA_DIR/state.db)")
@click.option("--service-cidr", default="10.96.0.0/12", show_default=True, help="range of Service ClusterIPs")
@click.option("--agent/--no-agent", default=True, show_default=True, help="run the node agent in-process")
@agent_options
def server(data_dir: Path, listen: str, store_url: str, service_cidr: str, agent: bool, node_name: str,
           node_ip: str, kubelet_port: int, pod_cidr: str, cluster_cidr: str, bridge: str) -> None:
    """Run the control plane (API server, scheduler) and the node agent in the foreground."""
    from pocketkube.agent.main import AgentConfig
    from pocketkube.server.main import ServerConfig, run

    host, port = _split_listen(listen)
    agent_config = AgentConfig(node_name or _hostname(), data_dir.absolute(), node_ip, kubelet_port, pod_cidr,
                               cluster_cidr, bridge) if agent else None
    run(ServerConfig(data_dir=data_dir.absolute(), host=host, port=port, store_url=store_url,
                     service_cidr=service_cidr, agent=agent_config))


@main.command("agent")
@click.option("--kubeconfig", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--data-dir", default="/var/lib/pocketkube-agent", show_default=True,
              type=click.Path(path_type=Path))
@agent_options
def agent_command(kubeconfig: Path, data_dir: Path, node_name: str, node_ip: str, kubelet_port: int,
                  pod_cidr: str, cluster_cidr: str, bridge: str) -> None:
    """Run a node agent alone, against the API server of KUBECONFIG."""
    from pocketkube.agent.main import AgentConfig, run_standalone

    run_standalone(kubeconfig, AgentConfig(node_name or _hostname(), data_dir.absolute(), node_ip, kubelet_port,
                                           pod_cidr, cluster_cidr, bridge))


@main.command()
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True, type=click.Path(path_type=Path))
def kubeconfig(data_dir: Path) -> None:
    """Print the admin kubeconfig of the server using DATA_DIR."""
    path = data_dir / "admin.kubeconfig"
    if not path.exists():
        click.echo(f"no kubeconfig at {path}: start `pocketkube server --data-dir {data_dir}` first", err=True)
        sys.exit(1)
    click.echo(path.read_text(), nl=False)


main.add_command(image)

@main.command("controllers")
@click.option("--kubeconfig", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--volumes-root", default="/var/lib/pocketkube/volumes", show_default=True,
              type=click.Path(path_type=Path), help="where the local-path provisioner keeps volumes")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True, help="run the scheduler too")
def controllers_command(kubeconfig: Path, volumes_root: Path, scheduler: bool) -> None:
    """Run the controllers (and the scheduler) alone, against the API server of KUBECONFIG."""
    from pocketkube.server.main import run_components

    run_components(kubeconfig, volumes_root.absolute(), scheduler)


if __name__ == "__main__":
    main()
