"""Interview publishing pipeline: card -> media -> transcript -> post page."""

__version__ = "0.1.0"
