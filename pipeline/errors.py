"""Errors a user can act on. The CLI prints them without a traceback."""

import click


class PipelineError(click.ClickException):
    """A problem the user can fix: click prints `Error: <message>` and exits 1."""


class CardError(PipelineError):
    """An interview card (interview.yaml) is missing, unreadable or invalid."""

    def __init__(self, path, problems):
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s) in the card:\n{lines}")

    def __reduce__(self):  # raised on a cluster's worker, shown by the client
        return CardError, (self.path, self.problems)


class FetchError(PipelineError):
    """The source could not be downloaded or found."""


class MediaError(PipelineError):
    """ffmpeg/ffprobe could not read or convert the media."""


class TranscribeError(PipelineError):
    """The speech recogniser could not be loaded or run."""


class LockedError(PipelineError):
    """Another publish is running in the same project folder."""


class SearchError(PipelineError):
    """The search database is missing or unreadable, a query cannot be understood, or the
    site's search index cannot be built."""
