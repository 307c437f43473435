"""Speakers: the real voice encoder on generated interviews, scored against the true turns.

Accuracy is the share of true speech time, where the transcript has a segment, that the
transcript gives to the right name (speech Whisper left out is named by nobody: its share is
reported as coverage). The bundled sample is published through the CLI; the other
interviews are generated here from tests/scripts/*.yaml and transcribed once each.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from bench.synth import load_script, synthesize_interview
from bench.wer import contains
from conftest import SAMPLE, add_interview
from pipeline.audio import read_samples
from pipeline.config import Card, SpeakerSettings, TranscribeSettings, load_card
from pipeline.errors import CardError
from pipeline.model import Prepared, Transcript
from pipeline.stages import speakers, voices
from pipeline.stages.transcribe import transcribe
from pipeline.stamps import Stamps

SCRIPTS = Path(__file__).parent / "scripts"


@dataclass
class Case:
    audio: Path
    turns: list[dict]
    machine: Transcript

    @property
    def people(self) -> list[str]:
        return list(dict.fromkeys(t["speaker"] for t in self.turns))

    @property
    def prepared(self) -> Prepared:
        """What the prepare stage hands the speakers stage: the audio."""
        return Prepared("audio", self.machine.duration, self.audio, None, None)


def accuracy(transcript: Transcript, turns: list[dict], short: bool = False) -> tuple[float, float]:
    """(share of covered true speech time given to the right name, share of it covered)."""
    said = np.full(int(max(t["end"] for t in turns) * 100) + 1000, None, dtype=object)
    for seg in transcript.segments:
        said[int(round(seg.start * 100)):int(round(seg.end * 100))] = seg.speaker
    right = covered = total = 0
    for turn in turns:
        if short and len(turn["text"].split()) > 2:
            continue
        heard = said[int(round(turn["start"] * 100)):int(round(turn["end"] * 100))]
        right += int((heard == turn["speaker"]).sum())
        covered += int((heard != None).sum())  # noqa: E711 (numpy compares element-wise)
        total += len(heard)
    return right / max(covered, 1), covered / max(total, 1)


def card(case: Case, folder: Path, speakers_field=None, **fields) -> Card:
    people = case.people
    values = {"interviewer": people[0], "guests": tuple(people[1:]), **fields}
    return Card(slug=folder.name, folder=folder, title="t", date=datetime.date(2026, 1, 1),
                source="x.wav", speakers=SpeakerSettings.parse(speakers_field) if speakers_field else SpeakerSettings(),
                **values)


def _generated(tmp_path_factory, name: str) -> Case:
    script = load_script(SCRIPTS / f"{name}.yaml")
    audio = tmp_path_factory.mktemp(name) / "audio.wav"
    truth = synthesize_interview(script["turns"], script["voices"], audio,
                                 pause=float(script.get("pause", 0.6)))
    return Case(audio, truth["turns"], transcribe(audio, TranscribeSettings(), "en", label=name))


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> dict:
    """The bundled sample, published once through the CLI (and again, to see the cache)."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    project = tmp_path_factory.mktemp("sample-project")
    (project / "media").mkdir()
    slug = SAMPLE.name
    add_interview(project, slug, SAMPLE / "interview.mp4", interviewer="Daniel Hughes",
                  guests=["Helen Ward"])
    first = CliRunner().invoke(cli, ["-C", str(project), "publish"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    out = project / "transcripts" / slug
    ran = Stamps(out).ran_at("speakers")
    second = CliRunner().invoke(cli, ["-C", str(project), "publish"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    machine = Transcript.from_dict(json.loads((out / "transcript.machine.json").read_text()))
    return {"project": project, "out": out, "first": first, "second": second, "ran": ran,
            "case": Case(project / "media" / slug / "audio.wav",
                         json.loads((SAMPLE / "truth.json").read_text())["turns"], machine)}


@pytest.fixture(scope="session")
def cycling(tmp_path_factory) -> Case:
    return _generated(tmp_path_factory, "cycling")


@pytest.fixture(scope="session")
def similar(tmp_path_factory) -> Case:
    return _generated(tmp_path_factory, "similar")


@pytest.fixture(scope="session")
def panel(tmp_path_factory) -> Case:
    return _generated(tmp_path_factory, "panel")


def _report(what: str, labelled: Transcript, case: Case) -> float:
    right, coverage = accuracy(labelled, case.turns)
    short, _ = accuracy(labelled, case.turns, short=True)
    print(f"\n{what}: {right:.1%} of speech time named right (coverage {coverage:.1%}); "
          f"interjections {short:.1%}")
    return right


def test_sample_publish_names_speakers_everywhere(sample):
    out = sample["out"]
    published = Transcript.from_dict(json.loads((out / "transcript.json").read_text()))
    assert _report("bundled sample", published, sample["case"]) >= 0.97
    assert {s.speaker for s in published.segments} == {"Daniel Hughes", "Helen Ward"}
    # Whisper's segments span both voices; the stage split them at the word where the voice changes.
    assert len(published.segments) > len(sample["case"].machine.segments)
    assert "<v Daniel Hughes>" in (out / "transcript.vtt").read_text()
    assert "\nHelen Ward: " in (out / "transcript.srt").read_text()
    paragraphs = (out / "transcript.txt").read_text().split("\n\n")
    assert any(p.startswith("[") and "] Helen Ward: " in p and contains(p, "people trust what they")
               for p in paragraphs)
    page = (sample["project"] / "site" / SAMPLE.name / "index.html").read_text()
    assert '">Daniel Hughes<span class="visually-hidden">' in page
    assert '">Helen Ward<span class="visually-hidden">' in page
    found = json.loads((out / "speakers.json").read_text())
    assert found["count"] == 2 and not found["estimated"]
    assert found["names"] == {"SPEAKER_1": "Daniel Hughes", "SPEAKER_2": "Helen Ward"}


def test_second_publish_does_no_speaker_work(sample):
    assert "speakers" in sample["first"].stderr
    assert "1 unchanged" in sample["second"].stderr
    assert Stamps(sample["out"]).ran_at("speakers") == sample["ran"]


def test_second_interview_other_voices_more_turns(cycling, tmp_path):
    assert 180 <= cycling.turns[-1]["end"] <= 360
    labelled = speakers.run(card(cycling, tmp_path), cycling.prepared, cycling.machine, tmp_path)
    assert _report("second interview", labelled, cycling) >= 0.97


def test_similar_voices_with_short_pauses(similar, tmp_path):
    labelled = speakers.run(card(similar, tmp_path), similar.prepared, similar.machine, tmp_path)
    assert _report("two similar voices", labelled, similar) >= 0.90


def test_three_speakers_two_guests(panel, tmp_path):
    labelled = speakers.run(card(panel, tmp_path), panel.prepared, panel.machine, tmp_path)
    assert _report("three voices", labelled, panel) >= 0.95
    assert [s.speaker for s in labelled.segments][0] == "Alan Hughes"
    assert {s.speaker for s in labelled.segments} == {"Alan Hughes", "Ruth Evans", "Kofi Mensah"}


def test_renaming_a_voice_costs_no_audio_work(cycling, tmp_path):
    speakers.run(card(cycling, tmp_path), cycling.prepared, cycling.machine, tmp_path)
    ran = Stamps(tmp_path).ran_at("speakers")
    renamed = speakers.run(card(cycling, tmp_path, {"SPEAKER_2": "Mark Lloyd", "Speaker 1": "Grace O."}),
                             cycling.prepared, cycling.machine, tmp_path)
    assert Stamps(tmp_path).ran_at("speakers") == ran
    assert {s.speaker for s in renamed.segments} == {"Grace O.", "Mark Lloyd"}
    turns = [dict(t, speaker={"Owen Price": "Mark Lloyd", "Grace Okafor": "Grace O."}[t["speaker"]])
             for t in cycling.turns]
    assert accuracy(renamed, turns)[0] >= 0.97
    assert json.loads((tmp_path / "speakers.json").read_text())["names"]["SPEAKER_2"] == "Mark Lloyd"


def test_names_listed_in_order_of_first_appearance(cycling, tmp_path):
    # The card lists the guest first: the list, not the roles, decides.
    labelled = speakers.run(card(cycling, tmp_path, ["Grace Okafor", "Owen Price"],
                                   interviewer="Owen Price", guests=("Grace Okafor",)),
                              cycling.prepared, cycling.machine, tmp_path)
    assert accuracy(labelled, cycling.turns)[0] >= 0.97


def test_interviewer_is_the_voice_asking_questions(cycling, tmp_path):
    # The interviewer speaks first here, so drop that hint: start with the guest's first answer.
    machine = Transcript.from_dict(cycling.machine.to_dict())
    for seg in machine.segments:
        seg.words = [w for w in seg.words if w.start >= cycling.turns[1]["start"] - 0.3]
        seg.text = "".join(w.word for w in seg.words).strip()
        seg.start = seg.words[0].start if seg.words else seg.start
    machine.segments = [s for s in machine.segments if s.words]
    labelled = speakers.run(card(cycling, tmp_path), cycling.prepared, machine, tmp_path)
    assert accuracy(labelled, cycling.turns)[0] >= 0.97


def test_one_speaker_card_does_no_clustering(cycling, tmp_path, monkeypatch):
    def no_embedding(*args):
        raise AssertionError("speakers: 1 must not embed any audio")

    monkeypatch.setattr(voices, "embed_mel", no_embedding)
    labelled = speakers.run(card(cycling, tmp_path, 1), cycling.prepared, cycling.machine, tmp_path)
    assert {s.speaker for s in labelled.segments} == {"Owen Price"}  # the guest gives the talk
    assert json.loads((tmp_path / "speakers.json").read_text())["count"] == 1


def test_count_is_estimated_when_the_card_names_nobody(cycling, panel, tmp_path):
    labelled = speakers.run(card(cycling, tmp_path, interviewer="", guests=()),
                              cycling.prepared, cycling.machine, tmp_path)
    found = json.loads((tmp_path / "speakers.json").read_text())
    assert found["estimated"] and found["count"] == 2
    assert {s.speaker for s in labelled.segments} == {"Speaker 1", "Speaker 2"}
    assert voices.find_voices(read_samples(panel.audio)).count == 3


def test_card_speakers_field_is_checked(tmp_path):
    folder = tmp_path / "talk"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"")
    for value, expected in [(0, "from 1 to 20"), ([], "empty list"), (True, "a number of voices"),
                            (["Ann", "Ann"], "Ann twice"), ({"host": "Ann"}, "SPEAKER_1"),
                            ({"SPEAKER_1": ""}, "to a name"), ("two", "a whole number")]:
        (folder / "interview.yaml").write_text(yaml.safe_dump(
            {"title": "T", "date": "2026-01-01", "source": "a.wav", "speakers": value}))
        with pytest.raises(CardError) as error:
            load_card(folder)
        assert "'speakers'" in error.value.message and expected in error.value.message, value
    (folder / "interview.yaml").write_text(yaml.safe_dump(
        {"title": "T", "date": "2026-01-01", "source": "a.wav", "speakers": {"Speaker 2": "Ann"}}))
    assert load_card(folder).speakers.rename == ((2, "Ann"),)


def test_spectrogram_is_the_one_the_encoder_was_trained_on(similar):
    from resemblyzer.audio import wav_to_mel_spectrogram

    samples = read_samples(similar.audio)[:16000 * 20]
    theirs = wav_to_mel_spectrogram(samples)
    assert np.abs(voices.mel_spectrogram(samples) - theirs).max() <= 1e-5 * theirs.max()
