"""The review queue's benchmark: do the spans the studio shows first hold the recogniser's
mistakes? (python -m bench.review [--quick])

Goal (issue 15): the spans the queue shows first, together at most 10 % of the words, hold
at least 70 % of the words the recogniser got wrong. Measured on generated interviews whose
true text is known: the bundled sample, the speakers tests' scripts (tests/scripts/*.yaml)
and bench/interview.py's interviews (4.5 minutes; 30 more without --quick). Each is
published for real once into .bench/review/ (transcribe, speakers, and the second opinion
when its model is installed) and reused after that.

A word the recogniser got wrong is a word of its output that lines up with no word said
(a substitution or an insertion), after Whisper's English normaliser on both sides (so
"6,000" and "six thousand" agree); words it left out are counted apart, on the word before
the gap. Prints a table per interview and for all together, with each signal's share, and
writes .bench/review.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import wer
from bench.interview import VOICES as INTERVIEW_VOICES, interview_turns
from bench.synth import load_script, make_video, synthesize_interview

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench" / "review"
SAMPLE = ROOT / "media" / "council-leader-blogging"
SCRIPTS = ROOT / "tests" / "scripts"
BUDGET = 0.10  # share of the words the first spans may hold
GOAL = 0.70  # share of the wrong words they must hold


@dataclass
class Interview:
    name: str
    project: Path
    truth: dict

    @property
    def slug(self) -> str:
        return self.name


def interviews(quick: bool) -> list[Interview]:
    """The generated interviews, each published once into its own project under .bench/review/."""
    made = [_sample()]
    made += [_scripted(path) for path in sorted(SCRIPTS.glob("*.yaml"))]
    made.append(_generated("council-4-5min", 4.5))
    if not quick:
        made.append(_generated("council-30min", 30))
    for interview in made:
        _publish(interview)
    return made


def _sample() -> Interview:
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    project = OUT / "sample"
    folder = project / "media" / "sample"
    if not (folder / "interview.yaml").exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / "interview.mp4", folder / "interview.mp4")
        shutil.copyfile(SAMPLE / "interview.yaml", folder / "interview.yaml")
    return Interview("sample", project, truth)


def _scripted(path: Path) -> Interview:
    script = load_script(path)
    return _made(path.stem, script["turns"], script["voices"], script.get("title", path.stem),
                 float(script.get("pause", 0.6)))


def _generated(name: str, minutes: float) -> Interview:
    return _made(name, interview_turns(minutes), INTERVIEW_VOICES, f"A {minutes:g}-minute interview")


def _made(name: str, turns: list[dict], voices: dict, title: str, pause: float = 0.6) -> Interview:
    """Speak the turns with espeak-ng into a video with a card naming the people (once)."""
    project = OUT / name
    folder = project / "media" / name
    truth_path = project / "truth.json"
    if not truth_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        wav = project / "speech.wav"
        truth = synthesize_interview(turns, voices, wav, pause=pause)
        make_video(wav, folder / "interview.mp4", title=title)
        wav.unlink()
        people = list(dict.fromkeys(t["speaker"] for t in turns))
        import yaml

        card = {"title": title, "date": "2026-01-15", "source": "interview.mp4",
                "interviewer": people[0], "guests": people[1:]}
        (folder / "interview.yaml").write_text(yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
        truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return Interview(name, project, json.loads(truth_path.read_text(encoding="utf-8")))


def _publish(interview: Interview) -> None:
    """A real publish (a no-op when nothing changed), as an editor's `make publish` runs it."""
    result = subprocess.run([sys.executable, "-m", "pipeline", "-q", "-C", str(interview.project),
                             "publish"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"publishing {interview.name} failed:\n{result.stderr[-3000:]}")


def second_opinion(interview: Interview) -> None:
    """Hear the interview again with Whisper base, as the studio does in the background."""
    from pipeline.config import load_card, load_site, transcribe_settings
    from pipeline.project import Project
    from pipeline.stages import prepare
    from pipeline.studio import second

    project = Project(interview.project)
    card = load_card(project.media / interview.slug)
    audio = prepare.last_prepared(card.folder).audio
    settings = transcribe_settings(load_site(project.root), card)
    second.run(project.transcript_folder(card.slug), audio, card.language, settings, card.slug)


def mistakes(heard: list[str], said: str) -> tuple[set[int], set[int]]:
    """The words of `heard` (the recogniser's, in order) that line up with no word of `said`
    (substituted or invented), and those just before a word it left out."""
    from rapidfuzz.distance import Levenshtein

    said_words = said.split()
    ours, our_word = _tokens(heard)
    true, true_word = _tokens(said_words)
    wrong, missed = set(), set()
    for i1, i2, j1, j2 in _differences(Levenshtein.opcodes(true, ours)):
        if i1 < i2 and j1 < j2 and _same(said_words[true_word[i1]:true_word[i2 - 1] + 1],
                                         heard[our_word[j1]:our_word[j2 - 1] + 1]):
            continue
        if j1 == j2:
            missed.add(our_word[j1 - 1] if j1 else 0)
        else:
            wrong.update(our_word[j] for j in range(j1, j2))
    return wrong, missed


def _differences(opcodes) -> list[tuple[int, int, int, int]]:
    """The stretches where the two differ, neighbouring edits joined ("six thousand" against
    "6,000" is a replace and a delete side by side)."""
    joined: list[list[int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if joined and joined[-1][1] == i1 and joined[-1][3] == j1:
            joined[-1][1], joined[-1][3] = i2, j2
        else:
            joined.append([i1, i2, j1, j2])
    return [tuple(d) for d in joined]


def _tokens(words: list[str]) -> tuple[list[str], list[int]]:
    """Each word normalised on its own (it may give no token, or several), with its index."""
    tokens, owner = [], []
    for i, word in enumerate(words):
        for token in wer.words(word):
            tokens.append(token)
            owner.append(i)
    return tokens, owner


def _same(said: list[str], heard: list[str]) -> bool:
    """Numbers written otherwise ("six thousand", "6,000") are the same words."""
    return wer.normalised(" ".join(said)).replace(" ", "") == wer.normalised(" ".join(heard)).replace(" ", "")


def measure(interview: Interview, use_second: bool = True) -> dict:
    """The queue's share of the words and of the mistakes, and what each signal caught."""
    from pipeline.config import load_card
    from pipeline.project import Project
    from pipeline.studio import document, review, suspects

    project = Project(interview.project)
    card = load_card(project.media / interview.slug)
    doc = document.load(project, card)
    evidence = review.evidence(doc)
    if not use_second:
        evidence.second = None
    queue = suspects.find(doc.paragraphs, evidence)
    words = [w for p in doc.paragraphs for w in p.words]
    wrong, missed = mistakes([w.word for w in words], " ".join(t["text"] for t in interview.truth["turns"]))
    offsets = [0]
    for p in doc.paragraphs:
        offsets.append(offsets[-1] + len(p.words))
    shown: dict[int, list[str]] = {}
    for s in queue:
        for k in range(offsets[s.paragraph] + s.first, offsets[s.paragraph] + s.end):
            shown[k] = list(s.reasons)
    least_sure = sorted(range(len(words)), key=lambda k: words[k].probability)[:round(BUDGET * len(words))]
    by_reason: dict[str, int] = {}
    for k in wrong & set(shown):
        for reason in shown[k]:
            by_reason[reason] = by_reason.get(reason, 0) + 1
    return {"interview": interview.name, "minutes": round(interview.truth["duration"] / 60, 1),
            "words": len(words), "wrong": len(wrong), "missed": len(missed), "spans": len(queue),
            "shown": len(shown), "caught": len(wrong & set(shown)),
            "missed_caught": len(missed & set(shown)),
            "least_sure_caught": len(wrong & set(least_sure)),
            "second_opinion": evidence.second is not None, "by_reason": by_reason}


def table(rows: list[dict]) -> str:
    lines = [f"{'interview':16} {'min':>5} {'words':>6} {'wrong':>6} {'spans':>6} {'shown':>7} "
             f"{'caught':>7} {'p alone':>8}  second opinion"]
    for r in rows:
        lines.append(f"{r['interview']:16} {r['minutes']:5.1f} {r['words']:6} {r['wrong']:6} "
                     f"{r['spans']:6} {r['shown'] / r['words']:7.1%} "
                     f"{r['caught'] / max(r['wrong'], 1):7.1%} "
                     f"{r['least_sure_caught'] / max(r['wrong'], 1):8.1%}  "
                     f"{'yes' if r['second_opinion'] else 'no'}")
    return "\n".join(lines)


def total(rows: list[dict], name: str) -> dict:
    keys = ("words", "wrong", "missed", "spans", "shown", "caught", "missed_caught", "least_sure_caught")
    out = {"interview": name, "minutes": sum(r["minutes"] for r in rows),
           "second_opinion": all(r["second_opinion"] for r in rows), "by_reason": {}}
    for key in keys:
        out[key] = sum(r[key] for r in rows)
    for r in rows:
        for reason, n in r["by_reason"].items():
            out["by_reason"][reason] = out["by_reason"].get(reason, 0) + n
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.review", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the 30-minute interview")
    args = parser.parse_args(argv)
    from pipeline.studio import second

    started = time.monotonic()
    made = interviews(args.quick)
    if second.installed():
        for interview in made:
            second_opinion(interview)
    prepared = time.monotonic() - started
    load = os.getloadavg()
    results = {}
    for label, use in (("with the second opinion", True), ("without it", False)):
        if use and not second.installed():
            print(f"{', '.join(second.PACKAGES)} not installed: no second opinion", file=sys.stderr)
            continue
        rows = [measure(i, use) for i in made]
        rows.append(total(rows, "all together"))
        print(f"\nReview queue, {label} (goal: at most {BUDGET:.0%} of the words shown, holding "
              f"at least {GOAL:.0%} of the wrong ones; 'p alone': tiny.en's least sure {BUDGET:.0%})")
        print(table(rows))
        print(f"mistakes caught, by reason: {rows[-1]['by_reason']}")
        results[label] = rows
    summary = {"results": results, "prepared_s": round(prepared, 1),
               "load_average": [round(x, 2) for x in load]}
    print(f"interviews published and heard again in {prepared:.0f} s; load average "
          f"{' '.join(f'{x:.1f}' for x in load)} (2 shared cores)")
    (ROOT / ".bench").mkdir(exist_ok=True)
    (ROOT / ".bench" / "review.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
