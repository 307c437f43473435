"""Cards and site settings: every problem reported at once, with the field named."""

import datetime

import pytest

import dataclasses

from conftest import ROOT, write_card
from pipeline.config import (Card, DownloadSettings, Site, TranscribeSettings, card_template, docs,
                             load_card, load_site, table)
from pipeline.errors import CardError


def test_valid_card_is_parsed(project):
    folder = write_card(project, "helen-ward", "https://example.org/v.mp4",
                        tags=["blogging"], intro="Hello *there*")
    card = load_card(folder)
    assert card.slug == "helen-ward"
    assert card.date == datetime.date(2026, 1, 15)
    assert card.is_url
    assert card.guests == ("Helen Ward",)
    assert card.tags == ("blogging",)
    assert card.language == "en"


def test_every_problem_is_reported_at_once(project):
    folder = project / "media" / "bad-card"
    folder.mkdir()
    (folder / "interview.yaml").write_text(
        "titel: Oops\ndate: 2026-13-45\nsource: ftp://example.org/x.mp4\nguests: Helen\n")
    with pytest.raises(CardError) as caught:
        load_card(folder)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "unknown field 'titel'; did you mean 'title'?" in text
    assert "'title' is required" in text
    assert "not a date" in text and "YYYY-MM-DD" in text
    assert "only http and https" in text
    assert "'guests' must be a list" in text
    assert len(problems) == 5
    assert str(folder / "interview.yaml") in caught.value.message


def test_not_yaml(project):
    folder = project / "media" / "broken"
    folder.mkdir()
    (folder / "interview.yaml").write_text("title: [unclosed\n")
    with pytest.raises(CardError, match="not valid YAML at line"):
        load_card(folder)


@pytest.mark.parametrize("source, message", [
    ("javascript:alert(1)", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("../other/video.mp4", "inside the card's folder"),
    ("missing.mp4", "no such file"),
])
def test_unsafe_or_missing_sources(project, source, message):
    folder = write_card(project, "some-talk", source)
    with pytest.raises(CardError, match=message):
        load_card(folder)


def test_unsafe_slug(project):
    folder = write_card(project, "Bad Slug!", "https://example.org/v.mp4")
    with pytest.raises(CardError, match="not a usable slug"):
        load_card(folder)


def test_slug_used_by_the_site_itself(project):
    folder = write_card(project, "search", "https://example.org/v.mp4")
    with pytest.raises(CardError, match="used by the site itself"):
        load_card(folder)


def test_site_settings_defaults_and_errors(tmp_path):
    site = load_site(tmp_path)
    assert (site.transcribe.model, site.transcribe.quality, site.glossary) == ("", "fast", ())
    (tmp_path / "site.yaml").write_text("title: My site\ntranscribe:\n  modle: small\n  beam_size: wide\n"
                                        "  quality: best\nglossary: [Llanelli, '']\nlanguage: en_GB\n")
    with pytest.raises(CardError) as caught:
        load_site(tmp_path)
    text = "\n".join(caught.value.problems)
    assert "unknown field 'transcribe.modle'; did you mean 'model'?" in text
    assert "'transcribe.beam_size' must be a whole number" in text
    assert "'transcribe.quality': 'best' is not a quality; use one of accurate, fast" in text
    assert "'glossary' must be a list of names and terms" in text
    assert "'language': 'en_GB' is not a language code such as 'en', 'de' or 'en-GB'" in text


def test_every_setting_is_documented_in_the_readme():
    """The README's tables are written from the field tables (python -m pipeline.config.docs)."""
    readme = (ROOT / "README.md").read_text()
    assert docs.render(readme) == readme, "README.md is out of date: run python -m pipeline.config.docs"
    for name in list(table(Card)) + list(table(Site)):
        assert f"| `{name}` |" in readme, f"README does not document the field '{name}'"
    for name in table(TranscribeSettings):
        assert f"| `transcribe.{name}` |" in readme, f"README does not document 'transcribe.{name}'"


def test_each_default_is_declared_once_on_its_field():
    """The dataclasses' defaults are the table's: a default written twice cannot drift."""
    for cls in (Site, TranscribeSettings, DownloadSettings):
        made = cls()
        for name, row in table(cls).items():
            assert getattr(made, name) == row.default, (cls.__name__, name)
    assert {f.name for f in dataclasses.fields(Card)} - set(table(Card)) == {"slug", "folder"}


def test_new_card_template_reads_back_as_the_defaults(tmp_path):
    folder = tmp_path / "media" / "fresh"
    folder.mkdir(parents=True)
    (folder / "talk.mp3").write_bytes(b"")
    import datetime

    (folder / "interview.yaml").write_text(card_template("Fresh", "talk.mp3", datetime.date(2026, 3, 1)))
    card = load_card(folder)
    for name, row in table(Card).items():
        if not row.required and name != "source":  # given here; optional only beside `sources`
            assert getattr(card, name) == row.default, name
    assert (card.title, card.source, card.date) == ("Fresh", "talk.mp3", datetime.date(2026, 3, 1))


def test_a_key_written_twice_is_refused(project):
    folder = project / "media" / "twice"
    folder.mkdir()
    (folder / "interview.yaml").write_text(
        "title: First\ndate: 2026-01-01\nsource: https://example.org/v.mp4\ntitle: Second\n")
    with pytest.raises(CardError, match=r"'title' is written twice \(lines 1 and 4\)"):
        load_card(folder)


@pytest.mark.parametrize("field, value", [("title", "Two\nlines"), ("interviewer", "Tom\nBaker"),
                                          ("guests", ["Helen\nWard"]), ("speakers", ["Ann", "Bo\rb"])])
def test_names_and_titles_must_be_one_line(project, field, value):
    folder = write_card(project, "lines", "https://example.org/v.mp4", **{field: value})
    with pytest.raises(CardError, match=f"'{field}'.*line break"):
        load_card(folder)
