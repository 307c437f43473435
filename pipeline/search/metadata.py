"""site/data/metadata.json: Datasette's metadata for the database beside it, so that

    datasette site/data/transcripts.db -m site/data/metadata.json

opens a research interface: the tables described, facets by speaker, guest, tag and date,
full-text search with FTS5's own syntax, and canned queries (every turn of a speaker, a
keyword in context, one interview's transcript, who speaks how much).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.files import write_json

METADATA = Path("data") / "metadata.json"  # inside site/, beside transcripts.db

TURN_COLUMNS = {
    "slug": "The interview's address on the site.",
    "speaker": "Who is speaking (as the editor named them).",
    "start": "When the turn starts, in seconds from the beginning of the recording.",
    "end": "When the turn ends, in seconds.",
    "anchor": "The turn's id on the post page (made from its start time, so it survives corrections).",
    "text": "What was said.",
    "url": "A permanent link that opens the post at this turn and starts the recording there.",
    "word_starts": "When each word of the text is said (JSON list of seconds).",
    "guests": "The interview's guests (JSON list).",
    "tags": "The interview's topics (JSON list).",
}

QUERIES = {
    "turns_by_speaker": {
        "title": "Every turn of a speaker",
        "description": "All turns whose speaker's name contains the text given (any case), newest "
                       "interview first, each in time order.",
        "sql": "select slug, title, date, speaker, start, \"end\", text, url from turns "
               "where speaker like '%' || :speaker || '%' order by id",
    },
    "keyword_in_context": {
        "title": "Keyword in context",
        "description": "Every turn that matches a search (FTS5 syntax: words, \"phrases\", prefix*, "
                       "AND, OR, NOT, NEAR), with the words around each match, best matches first.",
        "sql": "select t.slug, t.title, t.date, t.speaker, t.start, "
               "snippet(turns_fts, 0, '[', ']', '…', 16) as in_context, t.url "
               "from turns_fts join turns t on t.id = turns_fts.rowid "
               "where turns_fts match :query order by turns_fts.rank, t.id limit 1000",
    },
    "interview_transcript": {
        "title": "One interview's transcript",
        "description": "Every turn of one interview (give its slug), in time order.",
        "sql": "select start, \"end\", speaker, text, url from turns where slug = :slug order by start",
    },
    "speakers": {
        "title": "Who speaks, and how much",
        "description": "Each speaker's turns, interviews and seconds of speech.",
        "sql": "select speaker, count(*) as turns, count(distinct slug) as interviews, "
               "round(sum(\"end\" - start)) as seconds from turns group by speaker order by seconds desc",
    },
}


def metadata(site) -> dict:
    """Datasette's metadata for transcripts.db."""
    source = {"source": site.title, "source_url": site.base_url}
    return {
        "title": f"{site.title}: transcripts",
        "description": "Every speaker turn of every interview, with who said it, when, and a link "
                       "to the moment. Search a table with FTS5 syntax, or start from a query below.",
        **source,
        "databases": {"transcripts": {
            **source,
            "tables": {
                "turns": {
                    "title": "Speaker turns",
                    "description": "One row per paragraph of a post's transcript (a speaker's turn, "
                                   "at most 40 seconds long).",
                    "facets": ["speaker", {"array": "guests"}, {"array": "tags"}, {"date": "date"}],
                    "sort": "id", "searchmode": "raw", "columns": TURN_COLUMNS,
                },
                "interviews": {
                    "title": "Interviews",
                    "description": "One row per published interview.",
                    "facets": ["year", "interviewer", {"array": "guests"}, {"array": "tags"}],
                    "label_column": "title", "sort_desc": "date", "searchmode": "raw",
                    "columns": {"duration": "Length of the recording in seconds.",
                                "turns": "How many turns its transcript has.",
                                "first_id": "The id of its first turn (ids sort newest first).",
                                "source_hash": "What its rows were made from (changes when they change)."},
                },
                "chapters": {
                    "title": "Chapters",
                    "description": "The chapters of each interview, with links to where they start.",
                    "facets": ["slug"], "sort": "id", "searchmode": "raw",
                },
            },
            "queries": QUERIES,
        }},
    }


def write(site_folder: Path, site) -> None:
    write_json(site_folder / METADATA, metadata(site))
