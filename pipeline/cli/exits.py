"""How `pipeline` ends: without the interpreter's shutdown, once the streams are flushed."""

from __future__ import annotations

import logging
import os
import sys


def exit_now(code: int) -> None:
    """Exit with `code`, skipping the interpreter's shutdown. After a publish that shutdown
    took 0.95 s (freeing the models and torch's modules one by one), a tenth of a 3-minute
    interview's publish; after Ctrl-C, interviews publishing at the same time may still be
    decoding, and a Ctrl-C during `import torch` made torch's exit handlers kill the process
    with SIGINT instead of our code. Files are written atomically and closed as they go
    (pipeline.files), so nothing is left unwritten; the log and the streams are flushed here."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that went away (`| head`): nothing more to tell it
            pass
    os._exit(code)
