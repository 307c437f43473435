"""Speech recognisers behind one small interface: faster-whisper (default) and openai-whisper.

An engine decodes given speech clips (start, end seconds, each at most 30 s) of a window of
16 kHz audio and returns segments with word timings relative to that window. Finding the
clips, checking the result and stitching windows together is the transcribe stage's job, so
both engines get exactly the same treatment and give the same transcript.json shape.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.model import Segment, Word
from pipeline.stages import encoder, models
from pipeline.stamps import package_version


@dataclass(frozen=True)
class Decoding:
    """How to decode: the fast first pass, or the safer settings for a window that failed."""

    beam_size: int
    batch_size: int  # above 1, faster-whisper decodes that many clips at once
    temperatures: tuple[float, ...] = (0.0,)  # fallbacks when a result looks like a loop
    # Names and terms to expect, given to the decoder with every clip (faster-whisper's
    # hotwords; openai-whisper's initial prompt, carried to every clip): see hint().
    hint: str | None = None


# The decoder's prompt holds at most 223 tokens (half its context); a hint is cut well short
# of that, so it never crowds out what the prompt is for.
MAX_HINT_TOKENS = 120


def hint(terms: tuple[str, ...]) -> str | None:
    """The glossary as the decoder is given it: the terms as a comma-separated list, which
    Whisper reads as text said before (so it spells them so), the first ones first. No full
    stop after it: as a finished sentence it made Whisper stop after the first question of
    a clip and skip the answer (4 clips of the 30-minute benchmark; without it none, and
    more names heard right: 7 of 15 against 5)."""
    text, tokens = "", 0
    for term in terms:
        cost = len(term.split()) * 2 + 1  # about two tokens a word (names split into pieces)
        if tokens + cost > MAX_HINT_TOKENS:
            break
        text, tokens = f"{text}, {term}" if text else term, tokens + cost
    return text or None


_loading = threading.Lock()  # interviews publish in parallel: load each model only once


def load(settings: TranscribeSettings):
    """The engine the settings name, with its model loaded (once per process)."""
    _check_local_path(settings.model)
    with _loading:
        if settings.engine == "openai-whisper":
            return _openai(settings.model, settings.threads)
        return _faster(settings.model, settings.compute_type, settings.threads, settings.workers)


def identity(settings: TranscribeSettings) -> dict:
    """What identifies the engine and model, for the stage key: a change re-transcribes."""
    packages = {"faster-whisper": ("faster-whisper", "ctranslate2"),
                "openai-whisper": ("openai-whisper", "torch")}[settings.engine]
    result = {"engine": settings.engine, "model": settings.model}
    for package in packages:
        result[package] = package_version(package)
    if models.is_shipped(settings.model):
        result["bundle"] = models.versions(settings.model)
    return result


def _check_local_path(model: str) -> None:
    """A model written as a path must be there: never send a path to a hub as a model name."""
    if model.startswith(("/", "~", "./", "../")) and not Path(model).expanduser().exists():
        raise TranscribeError(f"There is no model at {Path(model).expanduser()}. Fix transcribe.model "
                              f"in site.yaml (or the card): a CTranslate2 model folder, a .pt "
                              f"checkpoint for openai-whisper, a Whisper model name, or one "
                              f"that ships: {_shipped()}.")


def _shipped() -> str:
    return " or ".join(f"'{name}'" for name in models.SHIPPED)


def downloads_off() -> bool:
    """HF_HUB_OFFLINE (Hugging Face's own switch) keeps both engines from downloading models."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def _why_not_downloaded(error: Exception | None) -> str:
    if downloads_off():
        return "downloads are switched off: HF_HUB_OFFLINE is set"
    return f"{type(error).__name__}: no internet?"


def _threads(threads: int) -> int:
    # 0 means every core; CTranslate2's own default is 4 threads, which on a 2-core machine
    # only makes the threads wait for each other.
    return threads or os.cpu_count() or 1


def _workers(workers: int, threads: int) -> tuple[int, int]:
    """(workers, threads per worker). 0 workers means one per thread: independent batches on
    one thread each used 2 shared cores better than one batch on two threads, whose threads
    wait for each other at every step (`make bench`: 1.58x the speed, 8 % less CPU)."""
    workers = min(workers or threads, threads)
    return workers, threads // workers


def _segment(start: float, end: float, text: str, words) -> Segment:
    # Word timings come from alignment, segment bounds from timestamp tokens; they can
    # disagree by a few hundredths. A segment must span its words (links and search rely on it).
    if words:
        start, end = min(start, words[0][0]), max(end, words[-1][1])
    return Segment(start=round(start, 3), end=round(end, 3), text=text.strip(),
                   words=[Word(round(w[0], 3), round(w[1], 3), w[2], round(w[3], 3)) for w in words])


def segment_of(words: list[Word]) -> Segment:
    """A segment of these words (part of another's), its text theirs."""
    return Segment(start=words[0].start, end=words[-1].end,
                   text="".join(w.word for w in words).strip(), words=words)


class FasterWhisper:
    """faster-whisper (CTranslate2): the default, several times faster than openai-whisper."""

    name = "faster-whisper"

    def __init__(self, model, workers: int):
        self.model, self.workers = model, workers
        self.local = threading.local()

    def _batched(self):
        # One pipeline per thread: BatchedInferencePipeline keeps the last word's time between
        # batches, so threads must not share one. The model itself is shared.
        from faster_whisper import BatchedInferencePipeline

        if not hasattr(self.local, "pipeline"):
            self.local.pipeline = BatchedInferencePipeline(self.model)
        return self.local.pipeline

    def decode(self, audio: np.ndarray, clips: list[tuple[float, float]], decoding: Decoding,
               language: str) -> list[Segment]:
        """Segments (times relative to `audio`) of the speech in `clips`."""
        if not clips:
            return []
        # Hotwords, not an initial prompt: the sequential decoder keeps an initial prompt for
        # its first window only, while hotwords go with every clip in both modes.
        common = dict(language=language, beam_size=decoding.beam_size, word_timestamps=True,
                      vad_filter=False, temperature=list(decoding.temperatures),
                      hotwords=decoding.hint)
        if decoding.batch_size > 1:
            # Each worker decodes every n-th clip, in batches of its share of batch_size, so
            # no more than batch_size clips are in memory at once however many workers run.
            shares = [clips[i::self.workers] for i in range(self.workers) if clips[i:]]
            batch = max(1, decoding.batch_size // len(shares))

            def run(share: list[tuple[float, float]]) -> list:
                found, _ = self._batched().transcribe(
                    audio, batch_size=batch,
                    clip_timestamps=[{"start": s, "end": e} for s, e in share], **common)
                return list(found)

            with ThreadPoolExecutor(len(shares)) as pool:  # CTranslate2 lets go of the GIL
                segments = sorted((s for found in pool.map(run, shares) for s in found),
                                  key=lambda s: s.start)
        else:
            segments, _ = self.model.transcribe(
                audio, condition_on_previous_text=False,
                clip_timestamps=[t for clip in clips for t in clip], **common)
        return [_segment(s.start, s.end, s.text, [(w.start, w.end, w.word, w.probability)
                                                  for w in s.words or []])
                for s in segments]

    @property
    def multilingual(self) -> bool:
        return self.model.model.is_multilingual

    def detect(self, speech: np.ndarray) -> dict[str, float]:
        """How likely each language is to be the one spoken, from up to 90 s of speech (the
        first 30-s window the model is sure of, else the majority of three)."""
        _, _, probabilities = self.model.detect_language(
            speech, language_detection_segments=3, language_detection_threshold=0.8)
        return dict(probabilities)


@functools.cache
def _faster(name: str, compute_type: str, threads: int, workers: int) -> FasterWhisper:
    path = _faster_path(name)
    workers, per_worker = _workers(workers, _threads(threads))
    # The PyTorch encoder (PyTorch's import: 1 s) is made beside CTranslate2's loading, which
    # lets go of the GIL.
    with ThreadPoolExecutor(1, thread_name_prefix="encoder") as side:
        torch_encoder = side.submit(encoder.build, path)
        model = _whisper_model(name, path, compute_type, per_worker, workers)
    encoder.attach(model, torch_encoder.result())
    return FasterWhisper(model, workers)


def _whisper_model(name: str, path: str, compute_type: str, per_worker: int, workers: int):
    """faster-whisper's WhisperModel, or a TranscribeError saying what to do."""
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(path, device="cpu", compute_type=compute_type,
                            cpu_threads=per_worker, num_workers=workers)
    except Exception as e:  # the engine's loaders raise many kinds; all mean "not usable"
        if Path(path).exists():
            raise TranscribeError(f"The model folder {path} could not be loaded: {e}. It must be a "
                                  "CTranslate2 Whisper model (model.bin, config.json, "
                                  "tokenizer.json, vocabulary.txt).") from e
        raise TranscribeError(
            f"The Whisper model '{name}' is not on this machine and could not be downloaded "
            f"({_why_not_downloaded(e)}). Use one that ships ({_shipped()}); or connect "
            f"to the internet once so faster-whisper downloads '{name}' into its cache; or set "
            "transcribe.model in site.yaml (or the card) to a local CTranslate2 model folder.") from e


def _faster_path(name: str) -> str:
    if models.is_shipped(name):
        return str(models.folder(name))
    path = Path(name).expanduser()
    return str(path) if path.exists() else name


class OpenAIWhisper:
    """openai-whisper, the reference implementation (PyTorch, float32 on the CPU)."""

    name = "openai-whisper"

    def __init__(self, model, threads: int):
        self.model, self.threads = model, threads
        # One decode at a time: word timings come from hooks that whisper puts on the model
        # for the length of a call, so two interviews at once would mix up their attention.
        self.lock = threading.Lock()

    def decode(self, audio: np.ndarray, clips: list[tuple[float, float]], decoding: Decoding,
               language: str) -> list[Segment]:
        """Segments (times relative to `audio`) of the speech in `clips`, one clip after another."""
        if not clips:
            return []
        with self.lock:
            return self._decode(audio, clips, decoding, language)

    def _decode(self, audio: np.ndarray, clips: list[tuple[float, float]], decoding: Decoding,
                language: str) -> list[Segment]:
        import torch
        import whisper

        torch.set_num_threads(_threads(self.threads))
        result = whisper.transcribe(
            self.model, audio, language=language, fp16=False, verbose=None,
            temperature=decoding.temperatures,
            beam_size=decoding.beam_size if decoding.beam_size > 1 else None,
            condition_on_previous_text=False, word_timestamps=True,
            initial_prompt=decoding.hint, carry_initial_prompt=True,
            clip_timestamps=[t for clip in clips for t in clip])
        return [_segment(s["start"], s["end"], s["text"],
                         [(w["start"], w["end"], w["word"], w["probability"])
                          for w in s.get("words", [])])
                for s in result["segments"]]

    @property
    def multilingual(self) -> bool:
        return self.model.is_multilingual

    def detect(self, speech: np.ndarray) -> dict[str, float]:
        """How likely each language is to be the one spoken, from the first 30 s of speech."""
        import whisper

        with self.lock:
            mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(speech), self.model.dims.n_mels)
            _, probabilities = self.model.detect_language(mel)
        return {language: float(p) for language, p in probabilities.items()}


@functools.cache
def _openai(name: str, threads: int) -> OpenAIWhisper:
    try:
        import whisper
    except ImportError:
        raise TranscribeError(
            "transcribe.engine is 'openai-whisper', but openai-whisper is not installed. Run "
            "`make setup` (it installs it), or: pip install torch==2.13.0 more-itertools numba "
            "tiktoken tqdm && pip install --no-deps openai-whisper==20250625") from None
    path = _openai_checkpoint(name, whisper)
    if path is None:  # a known name: found in (or downloaded into) whisper's own cache
        cached = _whisper_cache() / Path(whisper._MODELS[name]).name
        try:
            if downloads_off() and not cached.exists():
                raise FileNotFoundError(cached)
            return OpenAIWhisper(whisper.load_model(name, device="cpu",
                                                    download_root=str(_whisper_cache())), threads)
        except Exception as e:  # urllib raises many kinds when offline; all mean "not here"
            raise TranscribeError(
                f"The openai-whisper model '{name}' is not on this machine "
                f"({_whisper_cache()}) and could not be downloaded ({_why_not_downloaded(e)}). "
                f"Use one that ships ({_shipped()}); or connect once so openai-whisper downloads "
                "it; or set transcribe.model to a local .pt checkpoint (`pipeline convert OUT.pt "
                "--model FOLDER` makes one from a CTranslate2 model folder).") from e
    try:
        import torch

        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
    except Exception as e:  # torch raises many kinds; all mean "not usable"
        raise TranscribeError(f"The openai-whisper checkpoint {path} could not be loaded "
                              f"({type(e).__name__}: {e}). It must be a .pt file with `dims` "
                              "and `model_state_dict`, as `pipeline convert` "
                              "writes.") from e
    if checkpoint.get("alignment_heads"):  # kept by the converter: better word times
        _set_alignment_heads(model, checkpoint["alignment_heads"])
    return OpenAIWhisper(model.eval(), threads)


def _whisper_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"


def _openai_checkpoint(name: str, whisper) -> Path | None:
    """The checkpoint file for a model setting (a CTranslate2 model, the bundled one included,
    is converted once into the cache), or None for a known name that whisper loads itself."""
    from pipeline.stages import convert

    path = Path(name).expanduser()
    if models.is_shipped(name):  # its CTranslate2 weights, converted once into the cache
        return convert.shipped_checkpoint(name)
    if path.is_dir() and (path / "model.bin").exists():
        stat = (path / "model.bin").stat()
        out = convert.cache_dir() / (f"{path.resolve().name}-{stat.st_size}-{stat.st_mtime_ns}"
                                     f"-converter{convert.CONVERTER_VERSION}.pt")
        return out if out.exists() else convert.convert(path, out)
    if path.is_file():
        return path
    if name in whisper._MODELS:
        return None
    raise TranscribeError(
        f"The openai-whisper model '{name}' is neither a known model name "
        f"({', '.join(whisper.available_models())}) nor an existing .pt file or CTranslate2 "
        "folder. Fix transcribe.model in site.yaml or the card.")


def _set_alignment_heads(model, heads: list) -> None:
    import torch

    mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
