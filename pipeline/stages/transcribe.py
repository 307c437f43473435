"""Transcribe: speech to text with word timestamps, by the engine the settings name.

Long audio is where Whisper fails and where memory grows, so the stage, not the engine,
decides what gets decoded:
- The WAV is read in windows of WINDOW seconds, each cut at the quietest moment near its
  end, so memory stays bounded however long the interview is (faster-whisper on a whole
  30-minute file took 1.7 to 2.1 GB; see the benchmark for the windowed figures).
- In each window Silero VAD finds the speech, and the speech is grouped into clips of at
  most 30 s (Whisper's context), split at pauses. The engine decodes the clips; a pause
  between clips is never decoded, so silence cannot turn into invented text.
- Each clip's text is checked for Whisper's failure modes on long audio: repetition loops
  (zlib compression ratio, the same n-gram over and over), speech with no words (a skipped
  answer), and words placed over silence. A clip that fails is decoded again in clips of at
  most 10 s (a loop also with temperature fallback), and the better of the two results is
  kept. How often is in the Report.
- Speech at the end of a clip that no word covers is decoded again on its own and its words
  are put back (unheard_edge): Whisper drops a phrase it has not finished by the end of
  its window.

The model is the one `transcribe.model` names, else the shipped one `quality` picks
(models.chosen). With a multilingual model the language is detected (`auto`) or the card's
checked against what the model hears; the glossary goes with every clip as a hint.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline import audio as wav
from pipeline import languages, memory
from pipeline.audio import SAMPLE_RATE
from pipeline.config import Card, TranscribeSettings
from pipeline.errors import MediaError, TranscribeError
from pipeline.files import read_json, write_json, write_text
from pipeline.model import Fetched, Prepared, Segment, Transcript
from pipeline.stages import corrections, engines, export, models
from pipeline.stages.engines import Decoding
from pipeline.stamps import Stamps

log = logging.getLogger(__name__)

# Below this average word probability the speech is not in the expected language.
MIN_CONFIDENCE = 0.6
# Audio held in memory at a time (s). Ten minutes keeps the batches full while bounding
# memory: a 2-hour file costs no more than a 10-minute one.
WINDOW = 600.0
# Speech is found (VAD) in pieces this long: less memory at once than a whole window.
VAD_PIECE = 120.0
# Whisper sees 30 s at a time; a clip is speech regions joined up to this length.
MAX_CLIP = 30.0
# A pause longer than this starts a new clip: never decode long silences.
MAX_PAUSE = 2.0
# Whisper's own threshold: text compressing better than this is a repetition loop.
MAX_COMPRESSION = 2.4
# Speech (by VAD) this long with no word in it means Whisper skipped something.
MAX_UNHEARD = 2.5
# Safer settings for a clip that failed: beam search, with temperature fallback on loops,
# over shorter clips (Whisper skips speech more often in a long, busy 30-s window).
SAFER = Decoding(beam_size=5, batch_size=1, temperatures=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
SAFER_CLIP = 10.0
# Bump when the windowing, clipping or checks change what the stage produces.
METHOD = "windows-vad-clips-checks-edges-6"


# The recogniser's own output; transcript.json is the published truth (after corrections).
MACHINE_TRANSCRIPT = "transcript.machine.json"
# Where a forced re-transcription writes its text when an editor's transcript.txt is kept.
RETRANSCRIBED = "transcript.retranscribed.txt"


def run(card: Card, settings: TranscribeSettings, fetched: Fetched, prepared: Prepared,
        out: Path, force: bool = False) -> Transcript:
    """The transcribe stage: the machine's transcript, skipped when the source, the audio
    settings, the language, the glossary and the model are unchanged. `force` transcribes
    again; an editor's transcript.txt is kept, and the new text written beside it."""
    path = out / MACHINE_TRANSCRIPT
    if not force and is_fresh(card, settings, fetched, out):
        return Transcript.from_dict(read_json(path))
    settings = resolved(settings, card.language)
    log.info("%s: transcribing %.0f s of audio with %s", card.slug, prepared.duration, settings.model)
    transcript = transcribe(prepared.audio, settings, card.language, label=card.slug)
    memory.give_back_freed()  # the decoder's buffers: the voices of the recording come next
    if not transcript.segments:
        log.warning("%s: no speech found in %s; the post will say so", card.slug, fetched.path.name)
    write_json(path, transcript.to_dict())
    Stamps(out).record("transcribe", stage_key(out, fetched.sha256, card.language, settings))
    if force and corrections.edited_transcript(out):
        beside = out / RETRANSCRIBED
        write_text(beside, export.WriteTXT().render(transcript))
        log.warning("%s: re-transcribed into %s; your corrected transcript.txt is kept and still "
                    "used. Copy what you want from the new file.", card.slug, beside)
    return transcript


def is_fresh(card: Card, settings: TranscribeSettings, fetched: Fetched, out: Path) -> bool:
    """Whether the machine's transcript is there and made from this source with these settings."""
    key = stage_key(out, fetched.sha256, card.language, settings)
    return Stamps(out).is_fresh("transcribe", key, [out / MACHINE_TRANSCRIPT])


def load_soon(settings: TranscribeSettings, language: str, then=None) -> None:
    """Start loading the model in a thread of its own (a daemon: a publish that stops does
    not wait for it), and then run `then` (the later stages' own loading); transcribe() then
    finds it loaded. publish calls it before prepare, whose ffmpeg leaves a core idle: the
    imports and the model cost 2 s on 2 cores."""
    settings = resolved(settings, language)

    def load() -> None:
        try:
            engines.load(settings)
            if then:
                then()
        except Exception as e:  # they load again when used, and say what is wrong
            log.debug("loading %s ahead failed: %s", settings.model, e)

    threading.Thread(target=load, name="model-loading", daemon=True).start()


def resolved(settings: TranscribeSettings, language: str) -> TranscribeSettings:
    """The settings with the model to load named: the one given, else the one `quality`
    chooses for the language."""
    spoken = languages.base(language) if language != languages.AUTO else language
    return replace(settings, model=models.chosen(settings.model, settings.quality, spoken))


@dataclass
class Report:
    """What the transcription did: for the log and the benchmark."""

    windows: int = 0
    clips: int = 0
    problems: Counter = field(default_factory=Counter)  # loop / unheard / over-silence / edge
    redecoded: int = 0  # clips decoded again with safer settings
    kept: int = 0  # of those, how many gave a better result
    recovered: int = 0  # words found again at the end of a clip (see _recover_edge)
    detected: tuple[str, float] | None = None  # the language the model heard, and how surely
    clip_ends: list[float] = field(default_factory=list)  # seconds, for the benchmark
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"windows": self.windows, "clips": self.clips, "problems": dict(self.problems),
                "redecoded": self.redecoded, "kept": self.kept, "recovered": self.recovered,
                "detected": list(self.detected) if self.detected else None,
                "clip_ends": self.clip_ends, "seconds": round(self.seconds, 2)}


def transcribe(audio: Path, settings: TranscribeSettings, language: str,
               label: str = "") -> Transcript:
    """Run the recogniser over a 16 kHz WAV and return segments with word timings."""
    return transcribe_with_report(audio, settings, language, label)[0]


def transcribe_with_report(audio: Path, settings: TranscribeSettings, language: str,
                           label: str = "", window: float = WINDOW) -> tuple[Transcript, Report]:
    """transcribe(), also saying how many clips failed a check and were decoded again.
    `language` is a code (a region, as in en-GB, is the page's business) or `auto`."""
    settings = resolved(settings, language)
    spoken = None if language == languages.AUTO else languages.base(language)
    if _english_only(settings.model) and spoken not in (None, "en"):
        raise TranscribeError(
            f"{label}: the card says the language is '{language}', but the model "
            f"'{settings.model}' only understands English. Leave transcribe.model empty (the "
            "shipped multilingual 'base' is then used), set it to another multilingual model, or "
            "fix the card's language.")
    started, report = time.monotonic(), Report()
    duration = _duration(audio, label)
    # The first window's speech is found (VAD) while the model may still be loading (load_soon).
    speech = _with_speech(windows(audio, window))
    found = next(speech, None)
    engine = engines.load(settings)
    if spoken is None and not engine.multilingual:
        spoken = "en"  # an English-only model cannot tell languages apart: it hears English
    hint = engines.hint(settings.glossary)
    first = Decoding(beam_size=settings.beam_size, batch_size=settings.batch_size, hint=hint)
    result = Transcript(language=spoken or language, duration=round(duration, 3),
                        engine=engine.name, model=settings.model)
    for offset, samples, regions in itertools.chain([found] if found else [], speech):
        if regions and engine.multilingual and report.detected is None:
            spoken = _language(engine, samples, regions, spoken, label, report)
            result.language = spoken
        segments = _window(engine, samples, regions, first, spoken, report)
        result.segments += [_shifted(s, offset) for s in segments if s.text]
        report.clip_ends += [round(offset + end, 3) for _, end in group_clips(regions)]
        report.windows += 1
        if duration > window:
            log.info("%s: transcribed %.0f of %.0f s", label, offset + len(samples) / SAMPLE_RATE,
                     duration)
    if not engine.multilingual:
        _check_confidence(result, language, label, settings.glossary)
    report.seconds = time.monotonic() - started
    log.info("%s: transcribed %.0f s of audio in %.1f s (%.1fx real time); %d of %d clips "
             "decoded again (%s)%s", label, duration, report.seconds,
             duration / max(report.seconds, 1e-6), report.redecoded, report.clips,
             ", ".join(f"{k}: {v}" for k, v in report.problems.items()) or "no problems",
             f"; {report.recovered} word(s) found again at clip ends" if report.recovered else "")
    return result, report


# Language detection: the first window's speech, up to this long (three of Whisper's windows).
DETECT_SECONDS = 90.0
# The card's language is questioned only when the model is this sure of another one, and
# gives the card's this little.
SURE_OF_ANOTHER, CARDS_AT_MOST = 0.7, 0.2


def _language(engine, samples: np.ndarray, regions: list[tuple[float, float]], spoken: str | None,
              label: str, report: Report) -> str:
    """The language of the speech: detected (`auto`), or the card's once checked against what
    the model hears (a card that says English over French speech is an editor's slip, and
    Whisper would translate rather than transcribe it)."""
    speech = np.concatenate([samples[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)] for s, e in regions])
    probabilities = engine.detect(speech[:int(DETECT_SECONDS * SAMPLE_RATE)])
    heard = max(probabilities, key=probabilities.get)
    report.detected = (heard, round(probabilities[heard], 3))
    if spoken is None:
        log.info("%s: the speech is in %s (%s, detected with %.0f %% certainty)", label,
                 languages.name(heard), heard, 100 * probabilities[heard])
        return heard
    if heard != spoken and probabilities[heard] >= SURE_OF_ANOTHER \
            and probabilities.get(spoken, 0.0) <= CARDS_AT_MOST:
        raise TranscribeError(
            f"{label}: the speech does not sound like the card's language '{spoken}' "
            f"({languages.name(spoken)}): it sounds like {languages.name(heard)} ('{heard}', "
            f"{100 * probabilities[heard]:.0f} % sure). Set `language: {heard}` in the card (or "
            "`language: auto` to have it detected).")
    return spoken


def _english_only(model: str) -> bool:
    return Path(model).name.endswith(".en") or Path(model).stem.endswith(".en")


def _duration(audio: Path, label: str) -> float:
    try:
        return wav.duration(audio)
    except MediaError as e:
        raise TranscribeError(f"{label}: {e.message}") from e


def windows(audio: Path, window: float = WINDOW):
    """(offset seconds, float32 samples) of the 16 kHz WAV, cut at quiet moments."""
    return wav.windows(audio, window)


def _with_speech(windows_of_audio):
    """(offset, samples, speech regions) per window. VAD (one thread) finds the next window's
    speech while the engine decodes this one."""
    with ThreadPoolExecutor(1) as vad:
        ahead = None
        for offset, samples in windows_of_audio:
            job = vad.submit(speech_regions, samples)
            if ahead:
                yield ahead[0], ahead[1], ahead[2].result()
            ahead = (offset, samples, job)
        if ahead:
            yield ahead[0], ahead[1], ahead[2].result()


def _window(engine, samples: np.ndarray, regions: list[tuple[float, float]], first: Decoding,
            language: str, report: Report) -> list[Segment]:
    """Decode one window: speech clips in a fast first pass, failed clips again, safer, and
    speech left without words at a clip's end once more on its own."""
    clips = group_clips(regions)
    report.clips += len(clips)
    decoded = engine.decode(samples, clips, first, language)
    by_clip = _assign(decoded, clips)
    inside = [[r for r in regions if clip[0] <= r[0] and r[1] <= clip[1]] for clip in clips]
    failed = {i: problems for i in range(len(clips)) if (problems := check(by_clip[i], inside[i]))}
    for (i, problems), segments in zip(failed.items(), _decode_again(engine, samples, failed, inside, first, language)):
        report.problems.update(problems)
        report.redecoded += 1
        if _better(check(segments, inside[i]), problems, _words(segments), _words(by_clip[i])):
            by_clip[i], report.kept = segments, report.kept + 1
    edges = {i: edge for i in range(len(clips)) if (edge := unheard_edge(by_clip[i], clips[i], inside[i]))}
    # Side by side, one per engine worker: one clip at a time leaves the other cores idle.
    with ThreadPoolExecutor(getattr(engine, "workers", 1)) as pool:
        found = list(pool.map(lambda i: _recover_edge(engine, samples, by_clip[i], edges[i], first, language), edges))
    for i, segments in zip(edges, found):
        report.problems["edge"] += 1
        report.recovered += _words(segments)
        by_clip[i] = by_clip[i] + segments
    return [s for segments in by_clip for s in segments]


def _decode_again(engine, samples: np.ndarray, failed: dict[int, list[str]],
                  inside: list[list[tuple[float, float]]], first: Decoding, language: str) -> list:
    """The failed clips decoded again in clips of at most SAFER_CLIP s. A loop needs the
    temperature fallback, which only the sequential decoder has (one clip after another);
    speech skipped or words over silence need only the shorter clips, which the batched
    decoder takes all at once, side by side on every worker (the sequential one left all
    cores but one idle, and makes the spectrogram of the whole window each time). Those go
    without the glossary's hint: it is what makes Whisper skip an answer after a question
    (on the 30-minute benchmark every skipped clip had the hint; again with it, 18 words in
    a row stayed missing)."""
    safer = replace(SAFER, hint=first.hint)
    short = {i: group_clips(inside[i], SAFER_CLIP) for i in failed}
    batched = [(i, clip) for i, problems in failed.items() if "loop" not in problems for clip in short[i]]
    again: dict[int, list[Segment]] = {i: [] for i, _ in batched}
    if batched:
        clips = [clip for _, clip in batched]
        pieces = engine.decode(samples, clips, replace(first, batch_size=max(first.batch_size, 2), hint=None), language)
        for (i, _), segments in zip(batched, _assign(pieces, clips)):
            again[i] += segments
    return [again[i] if i in again else engine.decode(samples, short[i], safer, language) for i in failed]


# VAD (Silero, as faster-whisper sets it) pads each speech region by this much.
VAD_PAD = 0.4
# Speech this long after a clip's last word (beyond VAD's padding) is speech without words.
EDGE_SPEECH = 0.5


def unheard_edge(segments: list[Segment], clip: tuple[float, float],
                 regions: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The end of a clip where VAD hears speech but no word was placed, or None.

    Whisper drops the words of a segment it has not closed by the end of its 30-s window
    ("unfinished"; faster-whisper's batched decoder then moves on to the next clip), so a
    phrase said just before a clip ends can vanish: "In short," at 29 s of a real reading.
    """
    words = [w for s in segments for w in s.words]
    speech_end = max((end for _, end in regions), default=clip[0]) - VAD_PAD
    heard_to = words[-1].end if words else clip[0]
    if speech_end - heard_to < EDGE_SPEECH:
        return None
    return (round(max(clip[0], heard_to - 0.25), 3), clip[1])


def _recover_edge(engine, samples: np.ndarray, segments: list[Segment], edge: tuple[float, float],
                  decoding: Decoding, language: str) -> list[Segment]:
    """Decode the end of a clip on its own, where its speech is no longer cut off by the
    window; keep the words after the last one already heard."""
    words = [w for s in segments for w in s.words]
    heard_to = words[-1].end if words else edge[0]
    last = _plain(words[-1].word) if words else None
    found = []
    for seg in engine.decode(samples, [edge], decoding, language):
        new = [w for w in seg.words if w.start >= heard_to - 0.05]
        if new and last and _plain(new[0].word) == last and new[0].start < heard_to + 0.2:
            new = new[1:]  # the last word heard, heard again
        if new:
            found.append(engines.segment_of(new))
    return found


def _plain(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def _better(new: list[str], old: list[str], new_words: int, old_words: int) -> bool:
    """Fewer problems wins; with as many, more words (unless that is a loop)."""
    if len(new) != len(old):
        return len(new) < len(old)
    return "loop" not in new and new_words > old_words


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """Where the speech is (s), by Silero VAD; regions longer than MAX_CLIP are split."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # faster-whisper's batched defaults: 160 ms of silence ends a region.
    options = VadOptions(max_speech_duration_s=MAX_CLIP, min_silence_duration_ms=160)
    # A clip must end one 10-ms frame before the audio does: openai-whisper (and faster-
    # whisper's sequential mode) otherwise loop for ever on a clip ending past the last frame.
    length = (len(samples) // 160 - 1) / 100
    regions = []
    # In pieces cut at quiet moments: Silero over a whole 10-minute window held 180 MB at
    # once, on top of the decoder's peak (VAD runs while the previous window decodes).
    for offset, piece in wav.quiet_pieces(samples, VAD_PIECE):
        regions += [((offset + r["start"]) / SAMPLE_RATE, min((offset + r["end"]) / SAMPLE_RATE, length))
                    for r in get_speech_timestamps(piece, options)]
    return regions


def group_clips(regions: list[tuple[float, float]], longest: float = MAX_CLIP) -> list[tuple[float, float]]:
    """Join speech regions into clips of at most `longest` s, never across a long pause."""
    clips: list[list[float]] = []
    for start, end in regions:
        if clips and start - clips[-1][1] <= MAX_PAUSE and end - clips[-1][0] <= longest:
            clips[-1][1] = end
        else:
            clips.append([start, end])
    return [(round(s, 3), e) for s, e in clips]


def _assign(segments: list[Segment], clips: list[tuple[float, float]]) -> list[list[Segment]]:
    """Each segment to the clip its middle falls nearest to."""
    by_clip: list[list[Segment]] = [[] for _ in clips]
    for seg in segments:
        middle = (seg.start + seg.end) / 2
        i = min(range(len(clips)), key=lambda i: max(clips[i][0] - middle, middle - clips[i][1], 0))
        by_clip[i].append(seg)
    return by_clip


def check(segments: list[Segment], regions: list[tuple[float, float]]) -> list[str]:
    """Whisper's failure modes in one clip's result: 'loop', 'unheard', 'over-silence'."""
    words = [w for s in segments for w in s.words]
    text = " ".join(s.text for s in segments)
    problems = []
    if compression_ratio(text) > MAX_COMPRESSION or repeated_ngram(text):
        problems.append("loop")
    if _unheard(words, regions) > MAX_UNHEARD:
        problems.append("unheard")
    # Words more than a second from any speech: text the model invented over a pause.
    outside = [w for w in words if all(w.end < s - 1.0 or w.start > e + 1.0 for s, e in regions)]
    if len(outside) >= 3:
        problems.append("over-silence")
    return problems


def compression_ratio(text: str) -> float:
    """Whisper's loop detector: how well the text compresses (normal speech: about 1.5)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if len(data) >= 60 else 0.0


def repeated_ngram(text: str, times: int = 4, longest: int = 6) -> bool:
    """True when some run of 1 to `longest` words repeats `times` times in a row."""
    words = re.findall(r"[\w']+", text.lower())
    for n in range(1, longest + 1):
        for i in range(len(words) - n * times + 1):
            gram = words[i:i + n]
            if all(words[i + k * n:i + (k + 1) * n] == gram for k in range(1, times)):
                return True
    return False


def _unheard(words, regions: list[tuple[float, float]]) -> float:
    """The longest stretch of speech (by VAD) with no word in it, in seconds."""
    # VAD pads each region by 0.4 s and word times are approximate: allow for both.
    heard = sorted((w.start - 0.5, w.end + 0.5) for w in words)
    longest = 0.0
    for start, end in regions:
        at = start + 0.4
        for h_start, h_end in heard:
            if h_end <= at or h_start >= end - 0.4:
                continue
            longest = max(longest, h_start - at)
            at = max(at, h_end)
        longest = max(longest, end - 0.4 - at)
    return longest


def _words(segments: list[Segment]) -> int:
    return sum(len(s.words) for s in segments)


def _shifted(seg: Segment, offset: float) -> Segment:
    if not offset:
        return seg
    for w in seg.words:
        w.start, w.end = round(w.start + offset, 3), round(w.end + offset, 3)
    seg.start, seg.end = round(seg.start + offset, 3), round(seg.end + offset, 3)
    return seg


def _check_confidence(result: Transcript, language: str, label: str,
                      glossary: tuple[str, ...] = ()) -> None:
    """English-only models turn other languages into confident-sounding nonsense, at low word
    probability (measured here: English espeak speech 0.89 on average, German 0.43); a
    multilingual model is asked which language it hears instead (_language). The glossary's
    names are left out: the recogniser is rightly less sure of rare names (an English
    interview naming ten Welsh and Nigerian names, with them as hints: 0.56 in all)."""
    names = {_plain(t) for term in glossary for t in term.split()}
    words = [w for s in result.segments for w in s.words if _plain(w.word) not in names]
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
    language, the decoding settings, the exact engine and model, and how the stage decodes."""
    settings = resolved(settings, language)
    spoken = language if language == languages.AUTO else languages.base(language)
    decoding = {k: v for k, v in settings.__dict__.items() if k != "quality"}  # model says it
    return Stamps(out).key(source=source_sha, audio=SAMPLE_RATE, language=spoken,
                           settings=decoding, identity=model_identity(settings), method=METHOD)


def model_identity(settings: TranscribeSettings) -> dict:
    """What identifies the model and engine, for the stage key: a change re-transcribes."""
    return engines.identity(settings)

