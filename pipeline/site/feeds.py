"""Feeds and the sitemap: Atom for readers, RSS 2.0 for podcast apps, sitemap.xml for search.

Built with ElementTree, so every text is escaped and the XML is always well formed. The
RSS feed carries the media as enclosures and the Podcasting 2.0 tags podcast:transcript,
podcast:chapters and podcast:person (https://podcastindex.org/namespace/1.0). Dates come
from the cards, not the clock, so an unchanged site gives byte-identical feeds.
"""

from __future__ import annotations

import datetime
import email.utils
import html
import xml.etree.ElementTree as ET

from pipeline.config import Site
from pipeline.site.pages import Page

ATOM = "http://www.w3.org/2005/Atom"
PODCAST = "https://podcastindex.org/namespace/1.0"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
GENERATOR = "interview-pipeline"
# Podcasting 2.0 transcript types for the files we publish; `rel="captions"` marks timed text.
TRANSCRIPT_TYPES = (("transcript.vtt", "text/vtt", "captions"),
                    ("transcript.srt", "application/x-subrip", "captions"),
                    ("transcript.txt", "text/plain", None))

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("atom", ATOM)
ET.register_namespace("podcast", PODCAST)


def atom(site: Site, pages: list[Page]) -> str:
    """The Atom feed (RFC 4287) of every post, newest first."""
    # Plain names with an xmlns attribute: ElementTree cannot write a default namespace
    # when attributes are unqualified, and feed readers expect unprefixed Atom.
    feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: site.language})
    _sub(feed, "id", site.base_url)
    _sub(feed, "title", site.title)
    if site.description:
        _sub(feed, "subtitle", site.description)
    _sub(feed, "updated", _updated(pages))
    _link(feed, "self", site.base_url + "feed.xml", "application/atom+xml")
    _link(feed, "alternate", site.base_url, "text/html")
    author = _sub(feed, "author")
    _sub(author, "name", site.author or site.title)
    _sub(feed, "generator", GENERATOR)
    for page in pages:
        _atom_entry(feed, page)
    return _xml(feed)


def rss(site: Site, pages: list[Page]) -> str:
    """The RSS 2.0 feed with media enclosures and Podcasting 2.0 tags, newest first."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _plain(channel, "title", site.title)
    _plain(channel, "link", site.base_url)
    _plain(channel, "description", site.description or f"Interviews published by {site.author or site.title}")
    _plain(channel, "language", site.language)
    _plain(channel, "generator", GENERATOR)
    if pages:
        _plain(channel, "lastBuildDate", _rfc822(pages[0].post.card.date))
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": site.base_url + "rss.xml", "rel": "self",
                                                "type": "application/rss+xml"})
    for page in pages:
        _rss_item(channel, page)
    return _xml(root)


def sitemap(site: Site, pages: list[Page], tag_slugs: list[str]) -> str:
    """sitemap.xml: the index, every post (with its date) and every tag page."""
    urlset = ET.Element("urlset", {"xmlns": SITEMAP})
    entries = [(site.base_url, _updated(pages)[:10] if pages else None)]
    entries += [(page.url, page.post.card.date.isoformat()) for page in pages]
    entries += [(f"{site.base_url}tags/", None)]
    entries += [(f"{site.base_url}tags/{slug}/", None) for slug in tag_slugs]
    for loc, lastmod in entries:
        url = ET.SubElement(urlset, "url")
        _plain(url, "loc", loc)
        if lastmod:
            _plain(url, "lastmod", lastmod)
    return _xml(urlset)


def _atom_entry(feed: ET.Element, page: Page) -> None:
    card = page.post.card
    entry = _sub(feed, "entry", **({XML_LANG: page.language} if page.language != feed.get(XML_LANG) else {}))
    _sub(entry, "id", page.url)
    _sub(entry, "title", card.title)
    _sub(entry, "published", _timestamp(card.date))
    _sub(entry, "updated", _timestamp(card.date))
    _link(entry, "alternate", page.url, "text/html")
    if page.link("media"):
        _link(entry, "enclosure", page.link("media"), page.media_type, page.sizes["media"])
    if page.link("transcript.vtt"):
        _link(entry, "related", page.link("transcript.vtt"), "text/vtt", title="Captions")
    _sub(entry, "summary", page.summary)
    if card.intro:
        _sub(entry, "content", str(page.intro_html), type="html")
    for person in card.guests:
        contributor = _sub(entry, "contributor")
        _sub(contributor, "name", person)
    for tag in card.tags:
        _sub(entry, "category", term=tag)


def _rss_item(channel: ET.Element, page: Page) -> None:
    card = page.post.card
    item = ET.SubElement(channel, "item")
    _plain(item, "title", card.title)
    _plain(item, "link", page.url)
    ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = page.url
    _plain(item, "pubDate", _rfc822(card.date))
    # Readers show the description as HTML: the sanitised intro (escaped once more by the
    # XML, like Atom's content), or the summary as an escaped paragraph, never raw text.
    _plain(item, "description", str(page.intro_html) if page.post.card.intro
           else f"<p>{html.escape(page.summary)}</p>")
    if page.link("media"):
        ET.SubElement(item, "enclosure", {"url": page.link("media"), "type": page.media_type,
                                          "length": str(page.sizes["media"])})
    for tag in card.tags:
        _plain(item, "category", tag)
    for name, kind, rel in TRANSCRIPT_TYPES:
        if page.link(name):
            attributes = {"url": page.link(name), "type": kind, "language": page.language}
            ET.SubElement(item, f"{{{PODCAST}}}transcript", attributes | ({"rel": rel} if rel else {}))
    if page.link("chapters.json"):
        ET.SubElement(item, f"{{{PODCAST}}}chapters", {"url": page.link("chapters.json"),
                                                       "type": "application/json+chapters"})
    if card.interviewer:
        ET.SubElement(item, f"{{{PODCAST}}}person", {"role": "host"}).text = card.interviewer
    for guest in card.guests:
        ET.SubElement(item, f"{{{PODCAST}}}person", {"role": "guest"}).text = guest


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    """An Atom element (in the feed's default namespace)."""
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _plain(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _link(parent: ET.Element, rel: str, href: str, kind: str | None = None, length: int | None = None,
          title: str | None = None) -> None:
    attributes = {"rel": rel, "href": href}
    if kind:
        attributes["type"] = kind
    if length is not None:
        attributes["length"] = str(length)
    if title:
        attributes["title"] = title
    ET.SubElement(parent, "link", attributes)


def _timestamp(day: datetime.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _rfc822(day: datetime.date) -> str:
    moment = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    return email.utils.format_datetime(moment)


def _updated(pages: list[Page]) -> str:
    days = [page.post.card.date for page in pages]
    return _timestamp(max(days)) if days else "1970-01-01T00:00:00Z"


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"
