"""`pipeline convert OUT.pt`: a CTranslate2 Whisper model as an openai-whisper checkpoint."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("convert")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", default="tiny.en", show_default=True,
              help="CTranslate2 Whisper model folder, or a model that ships: tiny.en or base.")
def command(out: Path, model: str) -> None:
    """Convert a CTranslate2 Whisper model folder into an openai-whisper checkpoint (.pt).

    Set transcribe.model to the written file (with engine openai-whisper) to use it.
    """
    from pipeline.stages import models
    from pipeline.stages.convert import convert

    folder = models.folder(model) if models.is_shipped(model) else Path(model).expanduser()
    if not folder.is_dir():
        raise click.BadParameter(f"{folder} is not a folder, nor a model that ships "
                                 f"({', '.join(models.SHIPPED)})", param_hint="--model")
    convert(folder, out)
    click.echo(str(out))
    click.echo(f"{out}: openai-whisper checkpoint of {folder}; set transcribe.model to this path, "
               "or load it with whisper.load_model(path).", err=True)
