"""Shared fixtures: project folders in tmp_path, generated speech, the CLI."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.synth import make_video, synthesize_interview

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "media" / "council-leader-blogging"

# A short two-voice exchange with words Whisper tiny.en hears reliably.
SHORT_TURNS = [
    {"speaker": "Daniel Hughes", "text": "Why should senior managers write a blog every week?"},
    {"speaker": "Helen Ward", "text": "Because people trust what they can see. Writing every week "
                                      "lets me explain our decisions in plain words."},
]
VOICES = {"Daniel Hughes": {"voice": "en-gb+m3", "speed": 160},
          "Helen Ward": {"voice": "en-us+f2", "speed": 155}}


@pytest.fixture(scope="session")
def short_speech(tmp_path_factory) -> dict:
    """A ~10 s two-voice WAV, an MP4 and an MP3 of it, with the true turn times."""
    folder = tmp_path_factory.mktemp("speech")
    wav = folder / "short.wav"
    truth = synthesize_interview(SHORT_TURNS, VOICES, wav)
    make_video(wav, folder / "short.mp4", title="Test interview")
    mp3 = folder / "short.mp3"
    import ffmpeg

    ffmpeg.input(str(wav)).output(str(mp3), acodec="libmp3lame", audio_bitrate="64k").run(quiet=True)
    return {"wav": wav, "mp4": folder / "short.mp4", "mp3": mp3, "truth": truth}


def write_card(project: Path, slug: str, source: str, **fields) -> Path:
    """Write media/SLUG/interview.yaml with sensible defaults for the required fields."""
    folder = project / "media" / slug
    folder.mkdir(parents=True, exist_ok=True)
    values = {"title": f"Interview {slug}", "date": "2026-01-15", "source": source,
              "interviewer": "Daniel Hughes", "guests": ["Helen Ward"], **fields}
    import yaml

    (folder / "interview.yaml").write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return folder


def add_interview(project: Path, slug: str, media_file: Path, **fields) -> Path:
    """Copy a media file into media/SLUG/ and write its card."""
    folder = write_card(project, slug, media_file.name, **fields)
    shutil.copyfile(media_file, folder / media_file.name)
    return folder


@pytest.fixture
def project(tmp_path) -> Path:
    """An empty project folder."""
    (tmp_path / "media").mkdir()
    return tmp_path


@pytest.fixture
def run_cli():
    """Run `pipeline -C PROJECT ...` in-process; returns click's Result (stderr kept apart)."""
    def run(project: Path, *args: str):
        return CliRunner().invoke(cli, ["-C", str(project), *args], catch_exceptions=False)
    return run


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
