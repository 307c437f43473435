"""`pipeline edit [SLUG]`: the editor's studio, in the browser."""

from __future__ import annotations

import ipaddress

import click

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The Host headers of this machine's own names (an IPv6 address comes in brackets).
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


@click.command("edit")
@click.argument("slug", required=False)
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8700, show_default=True,
              help="Port to listen on (0: any free port). Drafts kept by the browser belong to "
                   "the address, so keep the same port from day to day.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on. 127.0.0.1 is this machine only; another address of this "
                   "machine lets others on its network open the studio (with the printed key), "
                   "which writes your files: only on purpose.")
@click.option("--no-browser", is_flag=True, help="Print the address, but do not open a browser.")
@click.option("--second-opinion/--no-second-opinion", default=True, show_default=True,
              help="Let a second recogniser (Whisper base, when installed) listen to each interview "
                   "opened, in the background, to find more places to check.")
@click.pass_obj
def command(project, slug: str | None, port: int, bind: str, no_browser: bool,
            second_opinion: bool) -> None:
    """Open the editor's studio: listen to an interview, check the places where the
    recogniser was least sure, correct words, speakers and chapters, and publish.

    It saves the same files an editor edits by hand (transcripts/SLUG/transcript.txt and
    the card), and prints its address, with a key that lets only your browser in. Stop with
    Ctrl-C.

        pipeline edit council-leader-blogging
    """
    import socket
    import threading
    import webbrowser

    import uvicorn

    from pipeline.studio.app import create_app, new_token

    known = [f.name for f in project.card_folders()]
    if slug and slug not in known:
        raise click.BadParameter(
            f"there is no interview card at {project.media / slug / 'interview.yaml'}"
            + (f"; the interviews here: {', '.join(known)}" if known else
               "; add one with `pipeline new`"), param_hint="SLUG")
    hosts = _allowed_hosts(bind)
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind, port))
    except OSError as e:
        sock.close()
        raise click.ClickException(f"Cannot listen on {bind}:{port}: {e.strerror}. Is a studio "
                                   "already running there? Choose another port with --port.") from e
    sock.listen(64)
    port = sock.getsockname()[1]
    token = new_token()
    app = create_app(project, token, port, hosts, second_opinion, warm=slug)
    host = f"[{bind}]" if ":" in bind else bind
    url = f"http://{host}:{port}/" + (f"i/{slug}/" if slug else "") + f"?token={token}"
    click.echo(f"The studio for {project.root} is at\n    {url}\n(open it in a browser; Ctrl-C stops it)",
               err=True)
    if bind not in LOOPBACK:
        click.echo(f"Warning: listening on {bind}, so other machines can reach the studio; the key "
                   "in the address is all that keeps them from writing your files.", err=True)
    if not no_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _allowed_hosts(bind: str) -> list[str]:
    """The Host headers this studio answers (anything else may be DNS rebinding)."""
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        if bind != "localhost":
            raise click.BadParameter(f"'{bind}' is not an address of this machine such as 127.0.0.1",
                                     param_hint="--bind") from None
        return LOOPBACK_HOSTS
    if address.is_unspecified:
        raise click.BadParameter(f"{bind} would listen everywhere; give the one address of this "
                                 "machine to listen on (the Host header is checked against it)",
                                 param_hint="--bind")
    return list(dict.fromkeys([*LOOPBACK_HOSTS, f"[{bind}]" if address.version == 6 else bind]))
