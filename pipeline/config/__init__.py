"""Configuration: the card of each interview and the site's settings.

settings.py holds the field tables (one dataclass per file, each field with its YAML type,
default, help, check and parser), load.py reads and checks the files, docs.py writes the
README's tables from the same fields.
"""

from pipeline.config.fields import Option, table
from pipeline.config.load import (card_template, glossary, load_card, load_site, read_yaml,
                                  transcribe_settings)
from pipeline.config.settings import (CARD_NAME, RESERVED_SLUGS, SITE_NAME, SLUG_PATTERN, Card,
                                      DownloadSettings, QuoteChoices, Site, SpeakerSettings,
                                      Track, TranscribeSettings, slug_for)

__all__ = ["CARD_NAME", "RESERVED_SLUGS", "SITE_NAME", "SLUG_PATTERN", "Card", "DownloadSettings",
           "Option", "QuoteChoices", "Site", "SpeakerSettings", "Track", "TranscribeSettings",
           "card_template", "glossary", "load_card", "load_site", "read_yaml", "slug_for", "table",
           "transcribe_settings"]
