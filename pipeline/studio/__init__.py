"""The editor's studio (`pipeline edit`): review and correct an interview in the browser.

document.py  the transcript as the studio shows and saves it (transcript.txt, word times)
card.py      the card fields the studio saves, round-trip (comments and order kept)
suspects.py  the review queue: the spans the recogniser was least sure of, ranked
app.py       the local web app (Starlette): pages, saves, media, publish, and its guards
"""
