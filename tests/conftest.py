"""Shared fixtures: project folders in tmp_path, generated speech, the CLI."""

from __future__ import annotations

import contextlib
import http.server
import re
import shutil
import signal
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import wer
from bench.browser import chromium
from bench.synth import make_video, synthesize_interview
from pipeline.cli import cli
from pipeline.config import Card, load_card
from pipeline.timecode import stamp

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


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for one test module (bench/browser.py starts it)."""
    with chromium() as running:
        yield running


def ctrl_c_as_in_a_terminal() -> None:
    """For Popen's preexec_fn: a shell that starts the tests in the background without job
    control ignores SIGINT, and Python then installs no handler in the child (so Ctrl-C
    sent by a test would do nothing, and uvicorn would exit 0 after it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def http_server(handler):
    """An HTTP server on 127.0.0.1 (a free port) for the length of the block; yields its address."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


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


def card_for(project: Path, slug: str = "talk", **fields) -> Card:
    """A loaded card for a URL interview (no media file needed), for calling a stage directly."""
    return load_card(write_card(project, slug, "https://example.org/talk.mp4", **fields))


# Whisper's output differs a little between CPUs (punctuation, casing, now and then a word):
# compare words after the benchmark's own normaliser, and ask for most of them, not all.
words_of = wer.words
RECALL = 0.8  # share of the true words a transcript of clear generated speech must have


def heard_correctly(transcript, turns=SHORT_TURNS) -> None:
    """The recogniser heard (nearly) what was said, turn by turn."""
    for turn in turns:
        got = wer.recall(turn["text"], transcript.text)
        assert got >= RECALL, f"heard {got:.0%} of {turn['text']!r} in {transcript.text!r}"


def words_in_their_turns(transcript, truth_turns: list[dict], slack: float = 0.5) -> None:
    """Every recognised word that lines up with a word said (normalised words, aligned in
    order: misheard words are left out) starts inside the true turn it was said in, and at
    least half the words said are checked so."""
    import difflib

    said = [(word, n) for n, turn in enumerate(truth_turns) for word in wer.words(turn["text"])]
    heard = [(w, " ".join(wer.words(w.word))) for seg in transcript.segments for w in seg.words]
    heard = [(w, text) for w, text in heard if text]
    matcher = difflib.SequenceMatcher(None, [s for s, _ in said], [h for _, h in heard], autojunk=False)
    checked = 0
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            word, turn = heard[block.b + k][0], truth_turns[said[block.a + k][1]]
            assert turn["start"] - slack <= word.start <= turn["end"] + slack, (word, turn)
            checked += 1
    assert checked >= len(said) / 2, f"only {checked} of {len(said)} words lined up"


def spoken(transcript_txt: str) -> str:
    """The spoken words of a transcript.txt: no comment lines, times or speaker names."""
    paragraphs = [p for p in transcript_txt.split("\n\n") if p.strip() and not p.startswith("# ")]
    return " ".join(p.split(": ", 1)[-1] for p in paragraphs)


def edit_a_word(path: Path, new: str = "Zanzibar") -> str:
    """Correct one word of a transcript.txt as an editor would (a word the recogniser wrote
    once, whichever it heard); return the word replaced."""
    text = path.read_text(encoding="utf-8")
    old = a_word_heard_once(spoken(text))
    head, body = (text.split("\n", 1) if text.startswith("# ") else ("", text))
    path.write_text(head + ("\n" if head else "") + re.sub(rf"\b{old}\b", new, body), encoding="utf-8")
    return old


def a_word_heard_once(text: str, longer_than: int = 4) -> str:
    """A word of the text, as the recogniser wrote it, that occurs once: for tests that edit
    what was heard without depending on which words it heard."""
    tokens = re.findall(r"[A-Za-z]+", text)
    once = [t for t in tokens if len(t) > longer_than and sum(u.lower() == t.lower() for u in tokens) == 1]
    assert once, f"no word occurs once in {text!r}"
    return max(once, key=len)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


# About 3 minutes on five topics, each opened by an interviewer question, with follow-up
# questions and interjections inside the topics: the truth for chapters and quotes.
TOM, GRACE = "Tom Baker", "Grace Miller"
TOPICS_VOICES = {TOM: {"voice": "en-gb+m3", "speed": 160}, GRACE: {"voice": "en-us+f2", "speed": 155}}
TOPICS_TURNS = [
    # Topic 1
    {"speaker": TOM, "topic": 1, "text": (
        "Grace Miller, welcome to the programme. How did you start keeping bees on a city "
        "roof?")},
    {"speaker": GRACE, "topic": 1, "text": (
        "My grandfather kept bees on his farm, and I helped him every summer as a child. When"
        " I moved to the city I missed them, so I asked the owner of my building if I could "
        "put two hives on the roof. He said yes, as long as I gave him some honey.")},
    {"speaker": TOM, "topic": 1, "text": "Right."},
    {"speaker": GRACE, "topic": 1, "text": (
        "That was eleven years ago. Now I look after twelve hives on four different roofs in "
        "the centre of town.")},
    {"speaker": TOM, "topic": 1, "text": "Was your grandfather surprised?"},
    {"speaker": GRACE, "topic": 1, "text": (
        "He laughed at first, because he thought bees belonged in the country. Then he came "
        "to visit, climbed the ladder to the roof, and said my bees looked healthier than his"
        " own.")},
    # Topic 2
    {"speaker": TOM, "topic": 2, "text": "How much honey do you get, and where do you sell it?"},
    {"speaker": GRACE, "topic": 2, "text": (
        "A strong hive gives about twenty kilos of honey in a good year. I take the frames "
        "off in late August and spin them in a small machine in my kitchen. City honey tastes"
        " of lime trees and garden flowers, so it is darker than farm honey. Every roof gives"
        " a slightly different flavour.")},
    {"speaker": TOM, "topic": 2, "text": "And who buys it?"},
    {"speaker": GRACE, "topic": 2, "text": (
        "I sell jars at the Saturday market by the river, and three cafes bake it into their "
        "cakes. The jars are usually gone by Christmas, and the price pays for new frames and"
        " for the sugar.")},
    # Topic 3
    {"speaker": TOM, "topic": 3, "text": (
        "What is the hardest part of the winter for your colonies?")},
    {"speaker": GRACE, "topic": 3, "text": (
        "Winter is when colonies die. The bees cluster together to keep warm, and they slowly"
        " eat the stores we leave them. The real danger is the varroa mite, a tiny parasite "
        "that spreads viruses through the colony. In a bad winter I have lost a third of my "
        "colonies.")},
    {"speaker": TOM, "topic": 3, "text": "I see."},
    {"speaker": GRACE, "topic": 3, "text": (
        "Now I treat every colony in November, and I count the mites each month with a jar of"
        " powdered sugar. Last winter I lost only one colony out of twelve, which is the best"
        " result I have ever had.")},
    # Topic 4
    {"speaker": TOM, "topic": 4, "text": (
        "Do your neighbours ever complain, and what do the city rules say?")},
    {"speaker": GRACE, "topic": 4, "text": (
        "Every beekeeper in the city must register each hive with the council, and hives must"
        " stand at least five metres from a public path. Neighbours often worry about stings,"
        " but a bee on a roof flies high above the street. In eleven years I have had one "
        "complaint, about a swarm that landed on a parked bicycle. The owner was very calm "
        "about it.")},
    {"speaker": TOM, "topic": 4, "text": "What happened to the swarm?"},
    {"speaker": GRACE, "topic": 4, "text": (
        "I collected the swarm in a cardboard box and gave it to a new beekeeper across the "
        "road. She still keeps that swarm today, and she sends the neighbours a jar of honey "
        "every autumn to say thank you.")},
    # Topic 5
    {"speaker": TOM, "topic": 5, "text": (
        "Finally, what advice would you give to someone who wants to start?")},
    {"speaker": GRACE, "topic": 5, "text": (
        "Join a local beekeeping club before you buy any equipment. Spend one whole season "
        "helping an experienced keeper, and learn to stay calm when the bees are angry. Buy "
        "good protective clothing, and start with two hives, so you can compare them.")},
    {"speaker": TOM, "topic": 5, "text": "Yes."},
    {"speaker": GRACE, "topic": 5, "text": (
        "And read a good book over the winter, because most mistakes happen in the first "
        "spring.")},
    {"speaker": TOM, "topic": 5, "text": "Grace Miller, thank you very much."},
    {"speaker": GRACE, "topic": 5, "text": "Thank you, it was a pleasure."},
]


@pytest.fixture(scope="session")
def topics_interview(tmp_path_factory) -> dict:
    """The five-topic interview published once by `pipeline publish` (real Whisper run)."""
    folder = tmp_path_factory.mktemp("topics")
    wav = folder / "bees.wav"
    truth = synthesize_interview(TOPICS_TURNS, TOPICS_VOICES, wav)
    for turn, script in zip(truth["turns"], TOPICS_TURNS):
        turn["topic"] = script["topic"]
    make_video(wav, folder / "bees.mp4", title="Keeping bees on a city roof")
    project = folder / "project"
    add_interview(project, "city-bees", folder / "bees.mp4", title="Keeping bees on a city roof",
                  interviewer=TOM, guests=[GRACE])
    result = CliRunner().invoke(cli, ["-C", str(project), "publish"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {"project": project, "slug": "city-bees", "truth": truth,
            "out": project / "transcripts" / "city-bees", "site": project / "site" / "city-bees"}


@pytest.fixture(scope="session")
def topics_transcripts(topics_interview) -> dict:
    """The published transcript, labelled by the speakers stage, and the same without labels
    (as an interview with unnamed voices would be)."""
    from pipeline.files import read_json
    from pipeline.model import Transcript

    labelled = Transcript.from_dict(read_json(topics_interview["out"] / "transcript.json"))
    plain = Transcript.from_dict(read_json(topics_interview["out"] / "transcript.json"))
    for seg in plain.segments:
        seg.speaker = None
    return {"plain": plain, "labelled": labelled}


# The researchers' archive (search, the site's search, citations, exports): the bundled
# sample and a short second interview with another date, guest and tag, published through
# the real pipeline, then corrected by an editor to the words said.
SLUG = "council-leader-blogging"
OTHER = "weekly-writing"
TRUTH = __import__("json").loads((SAMPLE / "truth.json").read_text())["turns"]


def truth_turn(phrase: str) -> dict:
    """The sample's true turn that says `phrase`."""
    return next(t for t in TRUTH if phrase.lower() in t["text"].lower())


def as_corrected(turns: list[dict]) -> str:
    """transcript.txt as an editor who checked every word against the recording writes it."""
    return "\n\n".join(f"[{stamp(t['start'])}] {t['speaker']}: {t['text']}" for t in turns) + "\n"


@pytest.fixture(scope="session")
def archive(tmp_path_factory, short_speech) -> Path:
    """A published project: the sample interview and a short one, transcribed once. Tests
    must not change it (copy it first)."""
    from pipeline.build import publish
    from pipeline.project import Project

    root = tmp_path_factory.mktemp("archive")
    folder = root / "media" / SLUG
    folder.mkdir(parents=True)
    for name in ("interview.yaml", "interview.mp4"):
        shutil.copyfile(SAMPLE / name, folder / name)
    add_interview(root, OTHER, short_speech["mp4"], title="Writing every week", date="2024-05-02",
                  guests=["Ada Price"], tags=["writing"])
    report = publish(Project(root))
    assert not report.failed, report.failed
    # The editor corrects both transcripts: the words searched for are then the words said,
    # on any machine (tiny.en's words vary a little between CPUs), while every time still
    # comes from the recogniser's word timings and the voices from the speakers stage's split.
    other = [dict(t, speaker={"Daniel Hughes": "Daniel Hughes", "Helen Ward": "Ada Price"}[t["speaker"]])
             for t in short_speech["truth"]["turns"]]
    for slug, turns in ((SLUG, TRUTH), (OTHER, other)):
        (root / "transcripts" / slug / "transcript.txt").write_text(as_corrected(turns), encoding="utf-8")
    report = publish(Project(root))
    assert not report.failed, report.failed
    return root
