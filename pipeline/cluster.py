"""Publishing on a Dask cluster: the expensive stages of each interview (fetch to speakers)
run as tasks on Dask workers, which read and write the project folder through a shared
filesystem; the client then runs the ordered stages, renders and indexes as on one machine.

    pipeline publish --scheduler tcp://host:8786   # workers: `dask worker tcp://host:8786`
    pipeline publish --scheduler local             # a LocalCluster of worker processes here

Dask distributed, not a queue of our own: pip only, no broker, the same futures code on a
laptop and a cluster, and the tasks of a worker that dies are given to another. A task is a
plain importable function of paths and settings (`hear`), so it runs the same in a thread, a
LocalCluster and a real cluster. A model is loaded once per worker process (the engines keep
it), and the log lines of each task reach the client with the worker's address.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import secrets
from pathlib import Path

from pipeline import memory
from pipeline.config import Site
from pipeline.errors import PipelineError
from pipeline.files import write_text
from pipeline.project import Project

log = logging.getLogger(__name__)

# A file the client writes into the project and every worker must read back: the proof that
# they all see the same folder (the shared filesystem).
MARKER = ".pipeline.cluster"
CONNECT_SECONDS = 10
TOPIC = "pipeline-log"


class ClusterError(PipelineError):
    """The scheduler cannot be reached, or a worker cannot do the project's work."""


class Cluster:
    """A connection to a scheduler (or a LocalCluster it started) for one publish."""

    def __init__(self, address: str, project: Project, site: Site, workers: int = 0):
        from distributed import Client, LocalCluster

        if log.getEffectiveLevel() > logging.DEBUG:  # Dask's own chatter, unless debugging
            for name in ("distributed", "tornado"):
                logging.getLogger(name).setLevel(logging.WARNING)

        self.project, self.site, self.working = project, site, set()
        self.local = None
        try:
            if address == "local":
                self.local = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                          threads_per_worker=1, processes=True,
                                          dashboard_address=None)
                address = self.local.scheduler_address
            self.client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as e:
            self.close()
            raise ClusterError(
                f"Cannot reach the Dask scheduler at {address} within {CONNECT_SECONDS} s ({e}). "
                "Start it with `dask scheduler` (and workers with `dask worker ADDRESS` in this "
                "project's environment), check the address, or publish without --scheduler.") from None
        self.client.subscribe_topic(TOPIC, _show)
        self._check(project)

    def start(self, folders: list[Path], force: bool) -> list:
        """The expensive stages of each interview, as futures: retried elsewhere if a worker
        dies, reported once if they fail."""
        self.working = {folder.name for folder in folders}
        return [self.client.submit(hear, str(self.project.root), folder.name, self.site, force,
                                   key=f"hear-{folder.name}-{secrets.token_hex(4)}", pure=False)
                for folder in folders]

    @staticmethod
    def result(future):
        """The task's result; its own error (a user's mistake: reported once, never retried),
        or a clear one when it kept killing the workers it ran on."""
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as e:
            raise ClusterError(f"the workers running it died ({e}); is a worker short of "
                               "memory? Publish again, or give the workers more memory.") from None

    def cancel(self, futures: list) -> None:
        self.client.cancel(futures)

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.local is not None:
            # A worker that has loaded torch can take over Dask's 4 s to exit; the nanny then
            # kills it with a warning. Every result is in by now and every output is atomic,
            # so that is not news for the user (it still is when debugging).
            if log.getEffectiveLevel() > logging.DEBUG:
                logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
            self.local.close()

    def _check(self, project: Project) -> None:
        """Every worker must see this project's folder and run this version of the pipeline."""
        workers = self.client.scheduler_info()["workers"]
        if not workers:
            self.close()
            raise ClusterError(f"The Dask scheduler has no workers: start some with "
                               f"`dask worker {self.client.scheduler.address}`.")
        token = secrets.token_hex(16)
        write_text(project.root / MARKER, token + "\n")
        seen = self.client.run(_sees, str(project.root), token)
        if blind := sorted(w for w, ok in seen.items() if not ok):
            self.close()
            raise ClusterError(
                f"Worker(s) {', '.join(blind)} do not see the project at {project.root}: it must "
                "be on a filesystem every worker shares, at the same path (see the README, "
                "'Publishing on a cluster').")
        ours = code_version()
        if odd := sorted(w for w, v in self.client.run(code_version).items() if v != ours):
            self.close()
            raise ClusterError(f"Worker(s) {', '.join(odd)} run another version of the pipeline: "
                               "start them from this project's environment (the same checkout "
                               "and virtualenv).")


def hear(root: str, slug: str, site: Site, force: bool):
    """The task: fetch to speakers for one interview, on a worker. On a worker the model
    decodes on one thread (the worker's task slots are the parallelism), unless the settings
    name a number of threads."""
    from dataclasses import replace

    from pipeline import build

    if site.transcribe.threads == 0:
        site = replace(site, transcribe=replace(site.transcribe, threads=1, workers=1))
    memory.keep_freed_for_reuse()
    with _forwarded_logs():
        return build.hear(Project(Path(root)), Path(root) / "media" / slug, site, force)


@functools.cache
def code_version() -> str:
    """A digest of the pipeline's own source files: two processes with the same run the same."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _sees(root: str, token: str) -> bool:
    try:
        return (Path(root) / MARKER).read_text().strip() == token
    except OSError:
        return False


class _ToClient(logging.Handler):
    """Sends a worker's pipeline log lines to the client, with the worker's address."""

    def emit(self, record: logging.LogRecord) -> None:
        from distributed import get_worker

        try:
            worker = get_worker()
            worker.log_event(TOPIC, {"worker": worker.address, "level": record.levelno,
                                     "message": record.getMessage()})
        except ValueError:  # not on a worker (a thread of the client): log as usual
            pass


@contextlib.contextmanager
def _forwarded_logs():
    """The pipeline's log lines of one task go to the client (and not to the worker's own
    stderr as well, which a LocalCluster shares with the client)."""
    logger, handler = logging.getLogger("pipeline"), _ToClient(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _show(event) -> None:
    """A log line from a worker, shown by the client as its own (with the worker named)."""
    _, record = event
    log.log(record["level"], "%s [%s]", record["message"], record["worker"])
