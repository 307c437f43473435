"""Speakers: who said what, named from the card.

Voices are found from the sound alone (pipeline.stages.voices: voice embeddings clustered into
as many voices as the card has people, or an estimate, then refined frame by frame). Each word
takes the voice heard during it, segments are split where the voice changes, and voices get
names from the card, from the voice prints of people named in other interviews
(pipeline.stages.voiceprints), or from recordings made one per person (the card's `sources`).
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.audio import read_samples
from pipeline.config import Card
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Prepared, Segment, Transcript, Word
from pipeline.stamps import Stamps, package_version
from pipeline.stages.voiceprints import Registry
from pipeline.stages.voices import FRAME, Voices, find_voices, from_tracks, runs, voice_id

log = logging.getLogger(__name__)


def unit_voices(transcript: Transcript, voices: Voices) -> list[int]:
    """The voice of each word (or of each segment without word times): the voice heard
    most in its voiced frames."""
    result = []
    last = len(voices.frames) - 1
    for start, end in _unit_times(transcript):
        a = min(max(int(start / FRAME), 0), last)
        b = min(max(int(np.ceil(end / FRAME)), a + 1), last + 1)
        frames, voiced = voices.frames[a:b], voices.voiced[a:b]
        heard = frames[voiced] if voiced.any() else frames
        result.append(int(np.bincount(heard).argmax()))
    return result


def _unit_times(transcript: Transcript) -> list[tuple[float, float]]:
    return [(w.start, w.end) for seg in transcript.segments
            for w in (seg.words or [seg])]


def voice_count(card: Card) -> int | None:
    """How many voices to look for: the card's `speakers`, else its people, else None (estimate)."""
    people = ([card.interviewer] if card.interviewer else []) + list(card.guests)
    return card.speakers.count or len(dict.fromkeys(people)) or None


@dataclass
class VoiceStats:
    seconds: float = 0.0
    words: int = 0
    turns: int = 0
    questions: int = 0  # turns with a question mark
    first: float = float("inf")


def voice_stats(transcript: Transcript, voices: list[int]) -> dict[int, VoiceStats]:
    """Per voice: speaking time, words, turns and turns that ask a question."""
    stats: dict[int, VoiceStats] = {}
    units = [(seg, w) for seg in transcript.segments for w in (seg.words or [seg])]
    previous, turn_text = None, []
    for (seg, unit), voice in zip(units, voices):
        s = stats.setdefault(voice, VoiceStats())
        s.words += len(unit.text.split()) if unit is seg else 1
        s.seconds += max(unit.end - unit.start, 0.0)
        s.first = min(s.first, unit.start)
        if voice != previous:
            s.turns += 1
            if previous is not None and "?" in "".join(turn_text):
                stats[previous].questions += 1
            turn_text = []
        turn_text.append(unit.word if unit is not seg else unit.text)
        previous = voice
    if previous is not None and "?" in "".join(turn_text):
        stats[previous].questions += 1
    return stats


def name_voices(card: Card, stats: dict[int, VoiceStats], recognised: dict[int, str] | None = None) -> dict[int, str]:
    """Names for voices: the card's renames and names in order first; then the people
    recognised by voice; then the interviewer is the voice that asks the questions (and
    speaks first, and less); guests take the rest in order of first appearance; any voice
    left is "Speaker N"."""
    voices = sorted(stats, key=lambda v: stats[v].first)
    settings = card.speakers
    if settings.names:
        return {v: settings.names[v] if v < len(settings.names) else f"Speaker {v + 1}" for v in voices}
    names = {v - 1: name for v, name in settings.rename if v - 1 in stats}
    for v, name in (recognised or {}).items():
        if v in stats and v not in names and name not in names.values():
            names[v] = name
    free = [v for v in voices if v not in names]
    taken = set(names.values())
    guests = [g for g in dict.fromkeys(card.guests) if g not in taken]
    interviewer = card.interviewer if card.interviewer and card.interviewer not in taken else ""
    # With one voice left and a guest to name, it is the guest talking (a talk, a monologue).
    if interviewer and free and (len(free) > 1 or not guests):
        total = sum(s.words for s in stats.values()) or 1
        first = voices[0]

        def asks(v: int) -> float:
            s = stats[v]
            return s.questions / max(s.turns, 1) + 0.5 * (v == first) + 0.5 * (1 - s.words / total)

        chosen = max(free, key=asks)
        names[chosen] = interviewer
        free.remove(chosen)
    for v in free:
        names[v] = guests.pop(0) if guests else f"Speaker {v + 1}"
    return names


def apply(transcript: Transcript, voices: list[int], names: dict[int, str]) -> Transcript:
    """A copy of the transcript with every segment split where the voice changes and named."""
    segments, i = [], 0
    for seg in transcript.segments:
        if not seg.words:
            segments.append(replace(seg, speaker=names[voices[i]]))
            i += 1
            continue
        groups: list[list] = []
        for word in seg.words:
            if groups and voices[i] == groups[-1][0]:
                groups[-1][1].append(word)
            else:
                groups.append([voices[i], [word]])
            i += 1
        for n, (voice, words) in enumerate(groups):
            start = seg.start if n == 0 else words[0].start
            end = seg.end if n == len(groups) - 1 else words[-1].end
            text = seg.text if len(groups) == 1 else "".join(w.word for w in words).strip()
            segments.append(Segment(start, end, text, names[voice], [replace(w) for w in words]))
    return replace(transcript, segments=segments)


ALGORITHM = 2  # part of the stage key: raise it when a change here should relabel old transcripts


# Seconds of audio up to which the voices are found while the recogniser decodes.
LISTEN_AHEAD_AT_MOST = 45 * 60


def listen_ahead(card: Card, prepared: Prepared) -> Future | None:
    """Start telling the voices apart now, in a thread of its own: they need only the audio,
    so publish has them found while the recogniser decodes (which leaves a core idle at
    times: a clip decoded again, the model loading), instead of after it. run() takes the
    Future. None for recordings made one per person, which need no voice finding, and for
    long ones: the voices' memory then adds to the recogniser's (a 2-hour interview with
    base peaked at 3.0 GB with both at once), so they are found after it, as before."""
    if prepared.tracks or prepared.duration > LISTEN_AHEAD_AT_MOST:
        return None
    found: Future = Future()

    def listen() -> None:
        try:
            found.set_result(find_voices(read_samples(prepared.audio), voice_count(card)))
        except BaseException as e:  # handed to run(), which raises it in publish's thread
            found.set_exception(e)

    # A daemon: a publish that fails or is interrupted meanwhile does not wait for it.
    threading.Thread(target=listen, name=f"voices-{card.slug}", daemon=True).start()
    return found


def run(card: Card, prepared: Prepared, transcript: Transcript, folder: Path,
        voiceprints: Path | None = None, ahead: Future | None = None) -> Transcript:
    """The speakers stage: name the speaker of every segment, splitting segments where the
    voice changes. Voices are found once per transcript and voice count (cached in
    speakers.json, with the names given; their voice prints kept in `voiceprints`, None: not
    kept); names come from the card every time, so renaming a speaker costs no audio work
    (recognise() then names the voices known from other interviews). Recordings made one
    per person (prepared.tracks) say who speaks when themselves: no voices are guessed.
    `ahead`: the voices being found already (listen_ahead()), used if the stage has to run."""
    if not transcript.segments:
        return transcript
    stamps, registry = Stamps(folder), Registry(voiceprints)
    count = len(prepared.tracks) if prepared.tracks else voice_count(card)
    key = stage_key(card, prepared, transcript, folder, voiceprints)
    path = folder / "speakers.json"
    kept = [registry.path(card.slug)] if registry.on and not prepared.tracks else []
    found = read_json(path, {}) if stamps.is_fresh("speakers", key, [path, *kept]) else {}
    units = len(_unit_times(transcript))
    if len(found.get("words", [])) != units:
        found, seconds = _find(card, prepared, transcript, count, registry, ahead)
        stamps.record("speakers", key, seconds=seconds)
    if prepared.tracks:  # who is on which track may have been renamed on the card since
        found["tracks"] = [speaker for speaker, _ in prepared.tracks]
    return _write_named(card, transcript, found, path)


def recognise(card: Card, labelled: Transcript, folder: Path, voiceprints: Path | None,
              busy: set[str] = frozenset()) -> Transcript:
    """The labelled transcript with the voices that sound like people named in other
    interviews given their names (the log says who and how sure). Interviews in `busy` (being
    published now, after this one) are not asked: what they know is not settled yet, and
    publish must give the same names however its work interleaves."""
    found = read_json(folder / "speakers.json", {})
    registry = Registry(voiceprints)
    if not found.get("words") or found.get("tracks") is not None or not registry.on:
        return labelled
    people = [card.interviewer, *card.guests, *card.speakers.names, *(n for _, n in card.speakers.rename)]
    recognised = {voice: {"name": r.name, "similarity": r.similarity, "runner_up": r.runner_up}
                  for voice, r in registry.recognise(card.slug, [p for p in people if p], busy).items()}
    if recognised != found.get("recognised", {}):
        for voice, r in recognised.items():
            other = f"; the other voice {r['runner_up']:.2f}" if r["runner_up"] > -1 else ""
            log.info("%s: recognised %s by voice (%s, similarity %.2f to the voice print from "
                     "other interviews%s)", card.slug, r["name"], voice, r["similarity"], other)
    return _write_named(card, labelled, {**found, "recognised": recognised}, folder / "speakers.json")


def stage_key(card: Card, prepared: Prepared, transcript: Transcript, folder: Path,
              voiceprints: Path | None = None) -> str:
    """What the voices depend on: the audio (or each person's track), the words and their
    times, how many voices the card asks for, whether voice prints are kept, and the tools
    (`pipeline status` compares it without doing the work)."""
    count = len(prepared.tracks) if prepared.tracks else voice_count(card)
    return Stamps(folder).key(files=[prepared.audio, *(path for _, path in prepared.tracks)],
                              words=_words_digest(transcript), count=count, versions=_versions(),
                              voiceprints=Registry(voiceprints).on)


def labelled(card: Card, transcript: Transcript, found: dict) -> Transcript | None:
    """The machine's transcript named as publish names it, from speakers.json's voices (and
    those recognised) and the card as it is now: no audio work (the studio and `pipeline
    status` use it). None when speakers.json does not belong to these words."""
    if not transcript.segments:
        return transcript
    if len(found.get("words", [])) != len(_unit_times(transcript)):
        return None
    voices, _, names = _named(card, transcript, found)
    return apply(transcript, voices, names)


def _write_named(card: Card, transcript: Transcript, found: dict, path: Path) -> Transcript:
    """The transcript split and named by the voices of `found`, written back to speakers.json
    with the names."""
    voices, stats, names = _named(card, transcript, found)
    write_json(path, {**found, "names": {voice_id(v): names[v] for v in sorted(names)},
                      "voices": {voice_id(v): _describe(stats[v], names[v]) for v in sorted(stats)}})
    return apply(transcript, voices, names)


def _named(card: Card, transcript: Transcript, found: dict) -> tuple[list[int], dict[int, VoiceStats], dict[int, str]]:
    """The voice of each word, each voice's statistics and its name: the tracks' speakers, or
    the card's people and those recognised by voice."""
    voices = [int(v.rsplit("_", 1)[1]) - 1 for v in found["words"]]
    stats = voice_stats(transcript, voices)
    if found.get("tracks") is not None:
        names = {v: found["tracks"][v] for v in stats}
    else:
        recognised = {int(v.rsplit("_", 1)[1]) - 1: r["name"] for v, r in found.get("recognised", {}).items()}
        names = name_voices(card, stats, recognised)
    return voices, stats, names


def learn(card: Card, transcript: Transcript, folder: Path, voiceprints: Path | None) -> None:
    """Record who each voice is as the published transcript names it: an editor's renames in
    transcript.txt then name the voice prints that later interviews are recognised by."""
    registry = Registry(voiceprints)
    if registry.on:
        heard = names_heard(read_json(folder / "speakers.json", {}), transcript)
        registry.name(card.slug, {voice: max(names, key=names.get) for voice, names in heard.items()})


def names_heard(found: dict, transcript: Transcript) -> dict[str, dict[str, float]]:
    """Voice id (of speakers.json's timeline) -> {speaker name: seconds of that voice's speech
    that the transcript gives them}."""
    starts = [s.start for s in transcript.segments]
    heard: dict[str, dict[str, float]] = {}
    for start, end, voice in found.get("timeline", []):
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(starts) and transcript.segments[i].start < end:
            seg = transcript.segments[i]
            overlap = min(end, seg.end) - max(start, seg.start)
            if overlap > 0 and seg.speaker:
                said = heard.setdefault(voice, {})
                said[seg.speaker] = said.get(seg.speaker, 0.0) + overlap
            i += 1
    return heard


def _find(card: Card, prepared: Prepared, transcript: Transcript, count: int | None,
          registry: Registry, ahead: Future | None = None) -> tuple[dict, float]:
    """The voices heard in each word (for speakers.json), and the seconds it took (waiting for
    `ahead`, if given); the voice prints are kept in the registry."""
    started = time.monotonic()
    if prepared.tracks:
        voices = from_tracks([read_samples(path) for _, path in prepared.tracks])
    else:
        voices = ahead.result() if ahead else find_voices(read_samples(prepared.audio), count)
        registry.keep(card.slug, voices.prints, voices.print_seconds)
    words = [voice_id(v) for v in unit_voices(transcript, voices)]
    seconds = round(time.monotonic() - started, 2)
    if voices.estimated:
        log.info("%s: the card names nobody, so the number of voices was estimated: %d. If that "
                 "is wrong, set `speakers:` in %s to the number or the names", card.slug,
                 voices.count, card.path)
    elif prepared.tracks:
        for v in voices.silent:
            log.warning("%s: %s's track (%s) holds no speech of its own: on the page nobody is named "
                        "%s. Check the card's `sources` in %s", card.slug, prepared.tracks[v][0],
                        card.sources[v].file, prepared.tracks[v][0], card.path)
    elif count and voices.count < count:
        log.warning("%s: the card names %d people, but only %d voice(s) speak in the recording; "
                    "the others never speak (if someone does, set `speakers:` in %s)",
                    card.slug, count, voices.count, card.path)
    how = "from the tracks" if prepared.tracks else "apart"
    log.info("%s: told %d voice(s) %s in %.1f s", card.slug, voices.count, how, seconds)
    found = {"count": voices.count, "estimated": voices.estimated, "words": words,
             "timeline": _timeline(voices)}
    return found, seconds


def _timeline(voices: Voices) -> list[list]:
    """[start, end, voice] for each stretch of one voice's speech: for people who check."""
    result = []
    for start, end in runs(voices.voiced):
        for a, b in _runs_of_values(voices.frames[start:end]):
            result.append([round((start + a) * FRAME, 2), round((start + b) * FRAME, 2),
                           voice_id(int(voices.frames[start + a]))])
    return result


def _runs_of_values(values: np.ndarray) -> list[tuple[int, int]]:
    cuts = [0] + (np.flatnonzero(np.diff(values)) + 1).tolist() + [len(values)]
    return list(zip(cuts[:-1], cuts[1:]))


def _describe(stats: VoiceStats, name: str) -> dict:
    return {"name": name, "seconds": round(stats.seconds, 1), "words": stats.words,
            "turns": stats.turns, "questions": stats.questions, "first": round(stats.first, 2)}


def _words_digest(transcript: Transcript) -> str:
    """What the voices depend on in the transcript: its words and their times. Splitting
    segments and naming speakers leave it unchanged, so a labelled transcript keeps its key."""
    units = [(w.start, w.end, w.word) for seg in transcript.segments
             for w in (seg.words or [Word(seg.start, seg.end, seg.text)])]
    return sha256_text(json.dumps(units))


def _versions() -> dict:
    return {"algorithm": ALGORITHM, **{p: package_version(p) for p in ("resemblyzer", "torch", "webrtcvad")}}
