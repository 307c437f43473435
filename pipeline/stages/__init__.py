"""The stages of one interview, in the order they run (see pipeline.build):

    fetch -> prepare -> transcribe -> speakers -> corrections -> export -> chapters -> quotes

Each stage is a module whose `run()` takes the card and what the stages before it made,
writes its files atomically and records a stamp (pipeline.stamps), so it is skipped when
nothing it depends on changed. engines.py and convert.py serve transcribe; sentences.py
serves chapters and quotes.
"""

from pipeline.project import Project
from pipeline.stamps import Stamps

# The stages that record a stamp, with the folder it lives in: media/SLUG or transcripts/SLUG.
STAMPED = {"fetch": "media", "prepare": "media", "transcribe": "transcripts",
           "speakers": "transcripts", "export": "transcripts", "chapters": "transcripts",
           "quotes": "transcripts"}

# The card as it was when the interview last published (in media/SLUG/.stamps/): what
# pipeline.build renders an interview with when it is not published again, and how
# `pipeline status` tells a card edited since.
PUBLISHED_CARD = "published-card.yaml"


def stamps_of(project: Project, slug: str, stage: str) -> Stamps:
    """The stamps folder a stage of one interview records itself in."""
    return Stamps((project.media if STAMPED[stage] == "media" else project.transcripts) / slug)
