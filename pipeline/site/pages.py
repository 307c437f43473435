"""What a post page shows, worked out from a Post: its address, its files, its summary, its
structured data and its transcript as the reader sees it (chapters as headings, questions set
apart, each turn's sentences for the highlight that follows the recording). Nothing here
writes files (pipeline.site.render does).

Text from cards and transcripts is untrusted: the intro's Markdown is rendered without raw
HTML and then sanitised, and templates autoescape everything else.
"""

from __future__ import annotations

import bisect
import html
import math
import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from pipeline import languages
from pipeline.config import Site
from pipeline.model import Chapter, Post
from pipeline.search.rows import PageTurn
from pipeline.stages.export import CUE_CHARS

# Files published beside each page, in the order the Downloads list shows them.
DOWNLOADS = (
    ("transcript.txt", "Transcript", "plain text"),
    ("transcript.vtt", "Captions", "WebVTT"),
    ("transcript.srt", "Subtitles", "SRT"),
    ("transcript.json", "Transcript with word timings", "JSON"),
    ("chapters.json", "Chapters", "JSON"),
    ("chapters.vtt", "Chapters", "WebVTT"),
)
TRANSCRIPT_FILES = tuple(name for name, _, _ in DOWNLOADS)
MEDIA_TYPES = {"video": "video/mp4", "audio": "audio/mp4"}
SUMMARY_CHARS = 200


@dataclass
class Page:
    """One post as the site shows it: its address, its files and the words that sum it up."""

    post: Post
    url: str  # absolute address of the post page, from site.base_url
    files: dict[str, str]  # "media", "poster" or a transcript file name -> name beside the page
    sizes: dict[str, int]  # the same keys -> bytes
    summary: str
    language: str = "en"  # the page's lang: see post_language()

    @property
    def language_label(self) -> str:
        return languages.label(self.language)

    @property
    def from_captions(self) -> bool:
        """The transcript's words are the publisher's own captions (creator_captions.py)."""
        return self.post.transcript.text_from == "captions"

    @property
    def media_type(self) -> str | None:
        return MEDIA_TYPES.get(self.post.prepared.kind) if "media" in self.files else None

    def link(self, role: str) -> str | None:
        """Absolute address of a file beside the page, or None when it is not published."""
        return self.url + self.files[role] if role in self.files else None

    def moment(self, seconds: float) -> str:
        """Where a time link goes without JavaScript: the recording itself at that moment (a
        media fragment, `video.mp4#t=75`, or YouTube's own `&t=75s`), since a page cannot start
        its player at `?t=` without a script. With JavaScript the link seeks in place."""
        second = math.floor(float(seconds) + 1e-6)
        if video := youtube_id(self.post):
            return f"https://www.youtube.com/watch?v={video}&t={second}s"
        if "media" in self.files:
            return f"{self.files['media']}#t={second}"
        return f"?t={second}"

    @property
    def intro_html(self) -> Markup:
        return markdown(self.post.card.intro)

    @property
    def image(self) -> str | None:
        """A picture for link previews and search results."""
        if "poster" in self.files:
            return self.link("poster")
        video = youtube_id(self.post)
        return f"https://i.ytimg.com/vi/{video}/hqdefault.jpg" if video else None


def post_language(post: Post, site: Site) -> str:
    """The language of a post's page, captions and feed entries: the card's, or for `auto`
    the one the recogniser detected, with the site's region when it is the same language."""
    spoken = post.card.language
    if spoken == languages.AUTO:
        spoken = post.transcript.language
    return languages.page_tag(spoken, site.language)


def markdown(text: str) -> Markup:
    """Markdown to safe HTML: raw HTML is not passed through, links keep only safe schemes."""
    html_text = MarkdownIt("commonmark", {"html": False}).render(text or "")
    return Markup(nh3.clean(html_text, url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def plain_text(html_text: str) -> str:
    """The words of an HTML fragment, without its tags, on one line."""
    return " ".join(html.unescape(nh3.clean(str(html_text), tags=set())).split())


def summary(post: Post, limit: int = SUMMARY_CHARS) -> str:
    """One or two sentences about the post: the intro's first paragraph, or the transcript's start."""
    first = (post.card.intro or "").strip().split("\n\n")[0]
    text = plain_text(markdown(first)) or post.transcript.text.strip()
    if not text:
        names = ", ".join(post.card.guests)
        text = f"An interview with {names}." if names else post.card.title
    return textwrap.shorten(text, width=limit, placeholder=" …")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, as schema.org wants: PT1M5S."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def tag_slug(tag: str) -> str:
    """The address of a tag's page: 'Local Government' -> 'local-government'."""
    ascii_text = unicodedata.normalize("NFKD", tag).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:  # a tag in a script with no ASCII letters keeps a stable, unique address
        slug = "tag-" + tag.encode("utf-8").hex()[:16]
    return slug


def tag_index(pages: list[Page]) -> dict[str, list[Page]]:
    """Pages by tag (tags that differ only in case or punctuation are one), by name."""
    found: dict[str, tuple[str, list[Page]]] = {}
    for page in pages:
        for tag in dict.fromkeys(page.post.card.tags):
            found.setdefault(tag_slug(tag), (tag, []))[1].append(page)
    return {name: listed for name, listed in sorted(found.values(), key=lambda x: x[0].casefold())}


def youtube_id(post: Post) -> str | None:
    """The video id of a YouTube source, from yt-dlp's provenance or the URL itself."""
    if post.prepared.kind != "youtube":
        return None
    if (post.provenance.get("extractor") or "").lower().startswith("youtube") and post.provenance.get("id"):
        return post.provenance["id"]
    url = urlparse(post.card.source)
    if url.hostname and url.hostname.endswith("youtu.be"):
        return url.path.strip("/") or None
    return (parse_qs(url.query).get("v") or [url.path.rstrip("/").rsplit("/", 1)[-1]])[0]


def clips(page: Page) -> list[dict]:
    """schema.org Clips from the chapters: whole seconds, one per start, each a ?t= link."""
    result, starts = [], set()
    for chapter in page.post.chapters:
        start = math.floor(chapter.start)
        if start in starts:
            continue
        starts.add(start)
        result.append({"@type": "Clip", "name": chapter.title, "startOffset": start,
                       "endOffset": max(math.ceil(chapter.end), start + 1),
                       "url": f"{page.url}?t={start}"})
    return result


def structured_data(page: Page, site: Site) -> dict:
    """JSON-LD for the recording: a VideoObject (an AudioObject for audio-only posts) with
    Clips from the chapters and a SeekToAction, as Google's key moments read them."""
    post, card = page.post, page.post.card
    video = youtube_id(post)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "AudioObject" if post.prepared.kind == "audio" else "VideoObject",
        "name": card.title,
        "description": page.summary,
        "uploadDate": f"{card.date.isoformat()}T00:00:00+00:00",
        "duration": iso_duration(post.prepared.duration),
        "inLanguage": page.language,
        "url": page.url,
    }
    if page.image:
        data["thumbnailUrl"] = [page.image]
    if video:
        data["embedUrl"] = f"https://www.youtube.com/embed/{video}"
    elif page.link("media"):
        data["contentUrl"] = page.link("media")
        data["encodingFormat"] = page.media_type
    if people := [name for name in (card.interviewer, *card.guests) if name]:
        data["contributor"] = [{"@type": "Person", "name": name} for name in people]
    if card.tags:
        data["keywords"] = ", ".join(card.tags)
    if site.author:
        data["publisher"] = {"@type": "Organization", "name": site.author}
    if parts := clips(page):
        data["hasPart"] = parts
    data["potentialAction"] = {"@type": "SeekToAction",
                               "target": f"{page.url}?t={{seek_to_second_number}}",
                               "startOffset-input": "required name=seek_to_second_number"}
    return data


def downloads(page: Page) -> list[dict]:
    """The files a reader can take away: transcript formats, chapters and the recording."""
    items = [{"href": name, "label": label, "format": kind, "size": page.sizes[name]}
             for name, label, kind in DOWNLOADS if name in page.files]
    if "media" in page.files:
        label = "Video" if page.post.prepared.kind == "video" else "Audio"
        items.append({"href": page.files["media"], "label": label,
                      "format": Path(page.files["media"]).suffix.lstrip(".").upper(),
                      "size": page.sizes["media"]})
    return items


# ---------------------------------------------------------------------------- the transcript

# A sentence ends at . ? ! or … (perhaps inside quotes or brackets); a clause at , ; : or a dash.
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:–—][\"'”’)\]]*$")


@dataclass
class ShownTurn(PageTurn):
    """A turn as the page shows it: a question or an answer, whether its speaker's name was
    just shown, and where each of its sentences starts (for the highlight)."""

    question: bool = False
    same_speaker: bool = False  # the turn before is the same speaker's: the name is not repeated
    sentences: list[int] = field(default_factory=lambda: [0])  # index of each sentence's first word


@dataclass
class Part:
    """The turns of one chapter (or those before the first chapter), under its heading."""

    chapter: Chapter | None
    anchor: str | None  # the heading's id: chapter-3
    turns: list[ShownTurn]

    @property
    def characters(self) -> int:
        """How much text it holds: the browser's estimate of its height until it is shown."""
        return sum(len(t.text) + len(t.speaker or "") + 12 for t in self.turns)


def sentences(text: str) -> list[int]:
    """Where each sentence of a turn starts, as indices of its whitespace-separated words. A
    sentence longer than a caption cue (two lines of captions) is split after a comma, and
    one longer than two cues wherever it reaches that length, so that the highlight that
    follows the recording never covers more than a few seconds of speech."""
    words = text.split()
    starts, first = [0], 0
    for i, word in enumerate(words[:-1]):
        length = len(" ".join(words[first:i + 1]))
        if (_SENTENCE_END.search(word) or (length > CUE_CHARS and _CLAUSE_END.search(word))
                or length > 2 * CUE_CHARS):
            starts.append(i + 1)
            first = i + 1
    return starts


def is_question(turn: PageTurn, interviewer: str) -> bool:
    """The interviewer's turns are the questions; without a name for them (or without
    speakers), a turn that ends with a question mark is one."""
    if interviewer and turn.speaker:
        return turn.speaker == interviewer
    return turn.text.rstrip().rstrip("\"'”’)]").endswith("?")


def transcript_parts(turns: list[PageTurn], chapters: list[Chapter], interviewer: str) -> list[Part]:
    """The transcript in parts, one a chapter: each turn goes under the last chapter that
    starts before it (a chapter starting inside a turn takes the turns after it). A speaker's
    name is shown where they start speaking, and again under each chapter's heading."""
    if not any(t.speaker == interviewer for t in turns):
        interviewer = ""  # the voices were not named after the card: tell questions by their "?"
    parts = [Part(None, None, [])]
    parts += [Part(chapter, f"chapter-{n}", []) for n, chapter in enumerate(chapters, 1)]
    starts = [float(c.start) for c in chapters]
    for turn in turns:
        # 0: before the first chapter; half a second of slack for a chapter set by hand.
        parts[bisect.bisect_right(starts, turn.start + 0.5)].turns.append(
            ShownTurn(**vars(turn), question=is_question(turn, interviewer), sentences=sentences(turn.text)))
    for part in parts:
        for before, turn in zip(part.turns, part.turns[1:]):
            turn.same_speaker = turn.speaker is not None and turn.speaker == before.speaker
    return [p for p in parts if p.turns or p.chapter]
