"""A long two-speaker interview for the benchmark, made with espeak-ng from generated text.

The text is built from plain sentences about local government, picked by a seeded random
generator, so the same length always gives the same interview and the true text is known.
A few long pauses stand in for the silences of real interviews (where Whisper likes to
invent text).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.synth import synthesize_interview

VOICES = {"Daniel Hughes": {"voice": "en-gb+m3", "speed": 160},
          "Helen Ward": {"voice": "en-us+f2", "speed": 155}}
# A long pause before every this many questions (about every two and a half minutes).
LONG_PAUSE_EVERY = 5
LONG_PAUSE = 6.0

_TOPICS = ["housing", "the budget", "the libraries", "bus services", "the schools", "the parks",
           "social care", "street lighting", "recycling", "the town centre", "planning",
           "the leisure centre", "road repairs", "youth clubs", "the market", "flood defences"]
_PEOPLE = ["residents", "our staff", "local businesses", "parents", "young people",
           "older people", "the councillors", "the volunteers", "the tenants", "the drivers"]
_QUESTIONS = [
    "What happened with {topic} this year?",
    "Why did the council change its plans for {topic}?",
    "How do {people} feel about {topic}?",
    "What would you say to {people} who are worried about {topic}?",
    "Can you tell me more about the work on {topic}?",
    "What was the hardest decision you made about {topic}?",
    "How much money goes into {topic} now?",
    "Who did you talk to before you decided on {topic}?",
    "What went wrong with {topic}, and what did you learn?",
    "Where do you want {topic} to be in five years?",
]
_SHORT = ["Right.", "I see.", "Yes.", "That is interesting.", "Go on.", "Thank you."]
_ANSWER = [
    "We spent a long time listening to {people} before we changed anything.",
    "The first thing we did was to write down what {topic} really costs.",
    "Most of the money for {topic} comes from the government, and it has fallen every year.",
    "I went out with the team on a cold Monday morning to see the problem for myself.",
    "Some of {people} were angry at first, and I understand why.",
    "We made a plan in the spring and we published every step of it on the website.",
    "It was not an easy choice, but I think it was the right one.",
    "The numbers were much worse than anyone had told us.",
    "We asked {people} what mattered most to them, and the answer surprised us.",
    "Now the work on {topic} is finished on time and nobody talks about it any more.",
    "I would rather explain a hard decision than hide it.",
    "The team found a way to save money without closing anything.",
    "We still get letters about {topic}, and I read every one of them.",
    "Every week I write about it on my blog, in plain words.",
    "When something goes wrong, we say so and we say what we will do next.",
    "The best ideas came from {people}, not from the town hall.",
    "We will not get everything right, but we will keep trying.",
    "There is a meeting every month where anyone can ask about {topic}.",
    "Last winter the heavy rain showed us how much work was still needed.",
    "We brought in a small group of experts and they helped us a great deal.",
    "It took three years, but the change is real and people can see it.",
    "My advice is simple: go and look, then listen, then decide.",
    "I was worried that the press would attack us, but they were fair.",
    "The new system is cheaper to run and much easier for {people} to use.",
]


def interview_turns(minutes: float, seed: int = 8) -> list[dict]:
    """Turns of an interview about `minutes` long: short questions, longer answers."""
    rng = random.Random(seed)
    turns, words, exchange = [], 0, 0
    target = minutes * 60 * 2.85  # espeak at these speeds says about 2.85 words a second
    while words < target:
        fill = {"topic": rng.choice(_TOPICS), "people": rng.choice(_PEOPLE)}
        question = {"speaker": "Daniel Hughes", "text": rng.choice(_QUESTIONS).format(**fill)}
        if exchange and exchange % LONG_PAUSE_EVERY == 0:
            question["pause"] = LONG_PAUSE
        answer = " ".join(s.format(**fill) for s in rng.sample(_ANSWER, rng.randint(3, 6)))
        new = [question, {"speaker": "Helen Ward", "text": answer[0].upper() + answer[1:]}]
        if rng.random() < 0.3:
            new.append({"speaker": "Daniel Hughes", "text": rng.choice(_SHORT), "pause": 0.5})
        turns += new
        words += sum(len(t["text"].split()) for t in new)
        exchange += 1
    return turns


# People and places an interview names, as the glossary benchmark's truth: spellings a
# recogniser cannot guess from the sound alone.
PEOPLE = ["Siobhan Kelly", "Aled Pritchard", "Nkechi Okafor", "Wojciech Nowak", "Ffion Davies",
          "Padraig Quinlan", "Oluwaseun Adeyemi"]
PLACES = ["Llanelli", "Aberystwyth", "Machynlleth"]
NAMES = PEOPLE + PLACES
_SAID_OF = {"people": ["{name} told us what the residents really wanted.",
                       "We asked {name} to look at the numbers again.",
                       "Without {name} the plan would never have worked."],
            "places": ["I went to {name} with the team last spring.",
                       "The meeting in {name} was the hardest one of the year."]}


def named_turns(minutes: float, seed: int = 14) -> list[dict]:
    """An interview whose answers name the people and places of NAMES, each several times."""
    rng = random.Random(seed)
    turns = interview_turns(minutes, seed)
    for turn in turns:
        if turn["speaker"] == "Helen Ward":
            kind = rng.choice(("people", "places"))
            name = rng.choice(PEOPLE if kind == "people" else PLACES)
            turn["text"] += " " + rng.choice(_SAID_OF[kind]).format(name=name)
    return turns


def make_interview(folder: Path, minutes: float, named: bool = False) -> tuple[Path, dict]:
    """The interview's WAV and truth (made once, then reused from `folder`); `named`: the
    one whose answers name NAMES."""
    name = f"interview-{minutes:g}min{'-names' if named else ''}"
    wav, truth_path = folder / f"{name}.wav", folder / f"{name}.json"
    if not (wav.exists() and truth_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        truth = synthesize_interview((named_turns if named else interview_turns)(minutes),
                                     VOICES, wav)
        truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return wav, json.loads(truth_path.read_text(encoding="utf-8"))
