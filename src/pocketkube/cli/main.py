"""The `pocketkube` command."""

from __future__ import annotations

import sys
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


@click.group()
@click.version_option(package_name="pocketkube")
def main() -> None:
    """Real Kubernetes pods on one Linux machine."""


@main.command()
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True, type=click.Path(path_type=Path))
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, help="ADDR:PORT for the HTTPS API")
@click.option("--store", "store_url", default="", help="store URL (default sqlite://DATA_DIR/state.db)")
@click.option("--service-cidr", default="10.96.0.0/12", show_default=True, help="range of Service ClusterIPs")
def server(data_dir: Path, listen: str, store_url: str, service_cidr: str) -> None:
    """Run the control plane (API server) in the foreground."""
    from pocketkube.server.main import ServerConfig, run

    host, port = _split_listen(listen)
    run(ServerConfig(data_dir=data_dir.absolute(), host=host, port=port, store_url=store_url,
                     service_cidr=service_cidr))


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

if __name__ == "__main__":
    main()
