"""The command line: `pipeline new`, `publish`, `status`, `edit`, `serve`, `search`, `cite`,
`export` and `convert`.

One module per command. Each imports the stages and libraries it needs inside the command,
so `pipeline --help` and the light commands start at once.

Data goes to stdout, progress and logs to stderr. Exit codes: 0 all well, 1 something
failed (each failure named), 2 a usage mistake, 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pipeline.cli import cite, convert, edit, export, new, publish, search, serve, status
from pipeline.cli.exits import exit_now


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "-C", "root", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Project folder holding media/, transcripts/ and site/.")
@click.option("-v", "--verbose", count=True, help="Show more detail (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings, errors and the summary.")
@click.pass_context
def cli(ctx: click.Context, root: Path, verbose: int, quiet: bool) -> None:
    """Publish interview videos as accessible, searchable blog posts."""
    from pipeline.project import Project

    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    if verbose < 2:  # libraries' own chatter is noise unless debugging
        for name in ("faster_whisper", "httpx", "huggingface_hub", "distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = Project(root.resolve())


for module in (new, publish, status, edit, serve, search, cite, export, convert):
    cli.add_command(module.command)


def main() -> None:
    """The `pipeline` command. Ctrl-C exits 130 with a line saying so (click's own handling
    says "Aborted!" and exits 1, which scripts cannot tell from a failure)."""
    try:
        code = cli.main(prog_name="pipeline", standalone_mode=False)
    except SystemExit as e:  # a command's own sys.exit(code)
        code = e.code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    if isinstance(code, str):  # as sys.exit("message") does
        click.echo(code, err=True)
        code = 1
    exit_now(code if isinstance(code, int) else 0)
