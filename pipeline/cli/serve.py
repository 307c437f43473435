"""`pipeline serve`: preview the built site as a web host would serve it."""

from __future__ import annotations

from urllib.parse import urlparse

import click


@click.command("serve")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.pass_obj
def command(project, port: int, bind: str) -> None:
    """Preview the built site (site/) in a browser, with seeking, ?t= links and the 404 page.

    The site is served under the path of site.yaml's base_url. Stop with Ctrl-C.
    """
    from pipeline.config import load_site
    from pipeline.site.serve import make_server

    if not (project.site / "index.html").is_file():
        raise click.ClickException(f"There is no site in {project.site} yet: run `pipeline publish` first.")
    prefix = urlparse(load_site(project.root).base_url).path
    try:
        server = make_server(project.site, bind, port, prefix)
    except OSError as e:
        raise click.ClickException(f"Cannot listen on {bind}:{port}: {e.strerror}. "
                                   "Choose another port with --port.") from e
    click.echo(f"Serving {project.site} at http://{bind}:{server.server_address[1]}{prefix} "
               "(Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
