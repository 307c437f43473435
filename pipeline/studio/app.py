"""The studio's web app (Starlette): the interview list, one interview's page and its data,
the media, saves, the review queue, publish, and the built site.

It writes files, so every request passes the guards of a local server that writes, in the
shape of Jupyter's:
- the Host header must name this server (127.0.0.1, localhost or the address it was asked
  to listen on): a page on another site whose name was pointed at 127.0.0.1 (DNS rebinding)
  gets 400;
- the random token printed in the address must come with every request, in the address
  (then it is turned into a cookie, SameSite=Strict, and taken out of the address) or that
  cookie; without it, 403;
- writes are POSTs of JSON, with the page's CSRF token in a header and, when the browser
  sends one, an Origin of this server; anything else is refused;
- the browser never names a file: an interview is one of the project's slugs (any other,
  another project's included, is 404) and each route knows its file; the only path taken
  from an address is one inside site/, the published site, served read-only with links out
  of it refused, as `pipeline serve` does.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from pipeline.config import glossary, load_card, load_site, transcribe_settings
from pipeline.errors import CardError, PipelineError
from pipeline.files import read_json, within
from pipeline.project import Project
from pipeline.site.serve import site_app
from pipeline.stages import chapters, corrections, prepare, quotes
from pipeline.stages.transcribe import MACHINE_TRANSCRIPT
from pipeline.studio import card as card_fields
from pipeline.studio import document, review, second
from pipeline.timecode import clock

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = {"studio.css": "text/css", "studio.js": "text/javascript", "model.js": "text/javascript",
          "editor.js": "text/javascript", "saving.js": "text/javascript",
          "panels.js": "text/javascript"}
CSRF_HEADER = "x-studio-csrf"


@dataclass
class Job:
    """A publish started from the studio: its log lines as they come, then how it ended."""

    slug: str
    lines: list[str] = field(default_factory=list)
    state: str = "running"  # running, published, failed, refused
    message: str = ""


@dataclass
class _Loaded:
    """An interview as the studio last loaded it, and the files' state it was loaded from."""

    key: tuple
    card: object
    doc: document.Document
    queue: Future  # of its review queue
    data: str | None = None  # the page script's data, as JSON, once made


class _JobLog(logging.Handler):
    """The log lines of one publish (its thread only), for the studio's progress panel."""

    def __init__(self, job: Job, thread: int):
        super().__init__(logging.INFO)
        self.job, self.thread = job, thread
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.job.lines.append(self.format(record))


class Studio:
    """What the app holds between requests: the project, its secrets, the running jobs."""

    def __init__(self, project: Project, token: str, port: int, second_opinion: bool = True):
        self.project, self.token, self.port = project, token, port
        self.second_opinion = second_opinion
        self.csrf = hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()[:32]
        self.cookie = f"pipeline-studio-{port}"
        self.publishing: Job | None = None
        self.jobs: dict[str, Job] = {}
        self.second: dict[str, str] = {}  # slug -> running, done, failed: message
        self._lock = threading.Lock()
        self._cache: dict[str, _Loaded] = {}
        self._loading: dict[str, threading.Lock] = {}  # one load of an interview at a time
        self._machines: dict[str, tuple[tuple, object]] = {}
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="studio-queue")
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        self.templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
            default=True, default_for_string=True))
        self.templates.filters["clock"] = clock

    # --- interviews ---------------------------------------------------------------------

    def card(self, slug: str):
        """The card of one of the project's interviews; any other slug is 404."""
        folders = {f.name: f for f in self.project.card_folders()}
        if slug not in folders:
            raise HTTPException(404, f"There is no interview '{slug}' in this project.")
        return load_card(folders[slug])

    def opened(self, slug: str):
        """(card, document) of an interview; its review queue starts in the background (the
        page's script asks for it a moment later)."""
        entry = self._entry(slug)
        return entry.card, entry.doc

    def loaded(self, slug: str):
        """(card, document, review queue) of an interview."""
        entry = self._entry(slug)
        return entry.card, entry.doc, entry.queue.result()

    def _entry(self, slug: str) -> _Loaded:
        """The interview as loaded last, while its files are unchanged; else loaded now."""
        card = self.card(slug)
        out = self.project.transcript_folder(slug)
        files = [card.path, out / document.EDITABLE, out / "transcript.machine.json",
                 out / "speakers.json", out / review.FILE, out / second.FILE]
        key = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None for p in files)
        with self._lock:
            loading = self._loading.setdefault(slug, threading.Lock())
        with loading:  # a request that comes while the interview is warming waits for that load
            with self._lock:
                cached = self._cache.get(slug)
            if cached and cached.key == key:
                return cached
            doc = document.load(self.project, card, self.machine(card))
            entry = _Loaded(key, card, doc, self._pool.submit(review.queue, doc))
            with self._lock:
                self._cache[slug] = entry
            return entry

    def machine(self, card):
        """The machine's words named from the card, as the studio loaded them last while the
        files they come from are unchanged (saves then need not read 20,000 words again)."""
        out = self.project.transcript_folder(card.slug)
        site = self.project.root / "site.yaml"  # its glossary respells names
        files = [card.path, site, out / "transcript.machine.json", out / "speakers.json"]
        key = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None for p in files)
        with self._lock:
            cached = self._machines.get(card.slug)
        if cached and cached[0] == key:
            return cached[1]
        machine = document.machine_transcript(out, card, glossary(load_site(self.project.root), card))
        with self._lock:
            self._machines[card.slug] = (key, machine)
        return machine

    def data(self, slug: str) -> _Loaded:
        """The interview with its page data made (once while its files are unchanged)."""
        entry = self._entry(slug)
        if entry.data is None:
            found = entry.queue.result()
            entry.data = json.dumps(_document_data(self, entry.card, entry.doc, found),
                                    ensure_ascii=False, separators=(",", ":"))
        return entry

    def warm(self, slugs: list[str]) -> None:
        """Load interviews and make their page data in the background, one after another."""
        def work():
            for slug in slugs:
                try:
                    self.data(slug)
                except Exception as e:  # the page's script is told when it asks
                    log.debug("%s: not loaded ahead: %s", slug, e)
        threading.Thread(target=work, name="studio-warm", daemon=True).start()

    def to_check(self, slug: str) -> int | None:
        """Places left in an interview's review queue (None before it has a transcript)."""
        try:
            return len(self.loaded(slug)[2])
        except PipelineError:
            return None

    def forget(self, slug: str) -> None:
        """Its files changed (a save, a publish): load it again when next asked."""
        with self._lock:
            self._cache.pop(slug, None)

    def render(self, name: str, **values) -> str:
        return self.templates.get_template(name).render(csrf=self.csrf, **values)

    # --- background work -------------------------------------------------------------------

    def publish(self, slug: str) -> Job:
        """Start publishing one interview; a second publish at once is refused by its lock."""
        with self._lock:
            if self.publishing and self.publishing.state == "running":
                job = Job(slug, state="refused", message=f"{self.publishing.slug} is being published "
                          "from the studio; wait for it to finish, then publish again.")
                return job
            job = self.publishing = self.jobs[slug] = Job(slug)
        threading.Thread(target=self._publish, args=(job,), name=f"studio-publish-{slug}",
                         daemon=True).start()
        return job

    def _publish(self, job: Job) -> None:
        from pipeline.build import publish

        handler = _JobLog(job, threading.get_ident())
        root = logging.getLogger("pipeline")
        root.addHandler(handler)
        level = root.level
        root.setLevel(min(level or logging.INFO, logging.INFO))
        try:
            report = publish(self.project, (job.slug,), jobs=1)
            if job.slug in report.failed:
                job.state, job.message = "failed", report.failed[job.slug]
            else:
                job.state = "published"
                failed = {k: v for k, v in report.failed.items() if k != job.slug}
                job.message = (f"published in {report.seconds:.1f} s"
                               + "".join(f"; {k} failed: {v}" for k, v in failed.items()))
        except PipelineError as e:  # another publish holds the project's lock, a bad site.yaml
            job.state, job.message = "refused", e.message
        except Exception as e:  # a bug: shown, logged with its trace, the studio goes on
            log.exception("publishing %s from the studio failed", job.slug)
            job.state, job.message = "failed", f"internal error: {type(e).__name__}: {e}"
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            self.forget(job.slug)

    def hear_again(self, slug: str) -> str:
        """Start the second opinion for an interview in the background (once)."""
        if not second.installed():
            return "not installed"
        if not self.second_opinion:
            return "off"
        with self._lock:
            state = self.second.get(slug, "")
            if state in ("running", "done"):
                return state
            self.second[slug] = "running"
        threading.Thread(target=self._hear_again, args=(slug,), name=f"studio-second-{slug}",
                         daemon=True).start()
        return "running"

    def _hear_again(self, slug: str) -> None:
        try:
            card = self.card(slug)
            prepared = prepare.last_prepared(card.folder)
            if prepared is None:
                raise PipelineError(f"{slug} has not been prepared yet: publish it first")
            settings = transcribe_settings(load_site(self.project.root), card)
            second.run(self.project.transcript_folder(slug), prepared.audio, card.language,
                       settings, slug)
            self.second[slug] = "done"
        except Exception as e:
            log.warning("%s: the second opinion failed: %s", slug, e)
            self.second[slug] = f"failed: {getattr(e, 'message', None) or e}"
        finally:
            self.forget(slug)

    def second_state(self, slug: str, doc) -> str:
        prepared = prepare.last_prepared(doc.card.folder)
        if prepared and second.load(doc.folder, prepared.audio) is not None:
            return "done"
        if not second.installed():
            return "not installed"
        return self.second.get(slug, "missing" if self.second_opinion else "off")


# --- the guards -------------------------------------------------------------------------------

class Guard:
    """The token on every request, and CSRF and origin checks on every write (ASGI middleware,
    so media are streamed through it untouched)."""

    def __init__(self, app, studio: Studio):
        self.app, self.studio = app, studio

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        studio = self.studio
        given = request.query_params.get("token")
        if given is not None and hmac.compare_digest(given, studio.token) and request.method == "GET":
            # From the printed address: keep the token in a cookie and out of the address bar.
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(studio.cookie, studio.token, httponly=True, samesite="strict",
                                path="/")
            return await response(scope, receive, send)
        if not hmac.compare_digest(request.cookies.get(studio.cookie, ""), studio.token):
            return await _refusal(403, "This studio needs its key", "Open the address that "
                                  "<code>pipeline edit</code> printed: it holds the key (a token) "
                                  "that lets this browser in.")(scope, receive, send)
        if request.method not in ("GET", "HEAD", "POST"):
            return await _refusal(405, "Not allowed", "The studio only reads (GET) and saves (POST).")(
                scope, receive, send)
        if request.method == "POST" and not self._same_origin_write(request):
            return await _refusal(403, "Not saved", "A write must come from the studio's own page "
                                  "(its CSRF token and origin).")(scope, receive, send)
        return await self.app(scope, receive, send)

    def _same_origin_write(self, request: Request) -> bool:
        if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), self.studio.csrf):
            return False
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return False
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            return False
        return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


def _refusal(status: int, title: str, text_html: str) -> HTMLResponse:
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><main><h1>{html.escape(title)}</h1><p>{text_html}</p></main></body></html>")
    return HTMLResponse(page, status_code=status)


# --- pages ----------------------------------------------------------------------------------

WARM = 3  # interviews loaded ahead when the studio starts without one named


def _last_changed(project: Project, folder: Path) -> float:
    """When the card or the transcript files of an interview last changed."""
    files = [*folder.glob("*"), *(project.transcripts / folder.name).glob("*")]
    return max((p.stat().st_mtime for p in files if p.is_file()), default=0.0)


def create_app(project: Project, token: str, port: int, hosts: list[str],
               second_opinion: bool = True, warm: str | None = None) -> Starlette:
    """The studio for one project, answering only to `hosts` and to requests with `token`;
    `second_opinion`: let Whisper base listen to each interview opened, in the background;
    `warm`: an interview to load at once, while the browser starts (without one: the
    interviews changed last, a few, so the first one the editor opens is ready)."""
    studio = Studio(project, token, port, second_opinion)
    folders = sorted(project.card_folders(), key=functools.partial(_last_changed, project), reverse=True)
    studio.warm([warm] if warm else [f.name for f in folders[:WARM]])

    async def refused(request: Request, exc: Exception) -> Response:
        """A missing interview (404), a bad request, or a problem the editor can fix (a card
        that is not valid: 422, with its message): a page for a browser, JSON for the script."""
        status, message = ((exc.status_code, exc.detail) if isinstance(exc, HTTPException)
                           else (422, exc.message))
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"error": message}, status_code=status)
        title = {404: "Not found", 422: "This interview cannot be opened"}.get(status, "Not done")
        return HTMLResponse(studio.render("error.html", title=title, message=message), status_code=status)

    routes = [
        Route("/", partial(_index, studio)),
        Route("/static/{name}", _static),
        Route("/i/{slug}/", partial(_interview, studio)),
        Route("/i/{slug}/data", partial(_data, studio)),
        Route("/i/{slug}/media", partial(_media, studio)),
        Route("/i/{slug}/transcript", partial(_save_transcript, studio), methods=["POST"]),
        Route("/i/{slug}/card", partial(_save_card, studio), methods=["POST"]),
        Route("/i/{slug}/review", partial(_review, studio), methods=["POST"]),
        Route("/i/{slug}/publish", partial(_publish, studio), methods=["GET", "POST"]),
        Route("/i/{slug}/second", partial(_second, studio), methods=["POST"]),
        Mount("/site", app=site_app(project.site)),  # the built site, as `pipeline serve` serves it
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: refused, PipelineError: refused},
                    middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False),
        Middleware(Guard, studio=studio)])
    app.state.studio = studio
    return app


async def _index(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    rows = await run_in_threadpool(_interviews, studio)
    return HTMLResponse(studio.render("index.html", rows=rows, project=studio.project.root))


def _interviews(studio: Studio) -> list:
    from pipeline import status as status_of

    site = load_site(studio.project.root)
    rows = [status_of.one(studio.project, folder, site, count=False) for folder in studio.project.card_folders()]
    for row in rows:  # loaded once for the list and for the page (then opening one is quick)
        if row.stages.get("speakers") in ("done", "stale") and row.stages.get("corrections") != "failed":
            row.to_check = studio.to_check(row.slug)
    return rows


@functools.cache
def _static_file(name: str) -> bytes:
    return (TEMPLATES / "static" / name).read_bytes()


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:  # a fixed list of the studio's own files, never a path
        raise HTTPException(404, "No such file.")
    return Response(_static_file(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


async def _interview(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    slug = request.path_params["slug"]
    card = await run_in_threadpool(studio.card, slug)
    out = studio.project.transcript_folder(slug)
    read = "read" in request.query_params
    page = {"card": card, "doc": None, "missing": None, "read": read,
            "media": _media_kind(prepare.last_prepared(card.folder))}
    if not (out / MACHINE_TRANSCRIPT).is_file():
        page["missing"] = (f"{slug}: there is no transcript yet. Publish the interview first; then "
                           "its words can be checked here.")
        return HTMLResponse(studio.render("interview.html", owner=None, **page))
    try:
        if read:  # the read-only view, for a browser without JavaScript
            page["doc"] = (await run_in_threadpool(studio.opened, slug))[1]
        owner = "editor" if corrections.edited_transcript(out) else "machine"
    except PipelineError as e:  # an editor's transcript.txt that cannot be read, a link out
        return HTMLResponse(studio.render("error.html", title="This interview cannot be opened",
                                          message=e.message), status_code=422)
    if not read:  # the page's script asks for its data in a moment: start on it now
        studio.warm(slug)
    return HTMLResponse(studio.render("interview.html", owner=owner, **page))


def _media_kind(prepared) -> dict | None:
    if prepared is None:
        return None
    if prepared.kind == "video" and prepared.media:
        return {"element": "video", "type": "video/mp4"}
    if prepared.kind == "audio" and prepared.media:
        return {"element": "audio", "type": "audio/mp4"}
    return {"element": "audio", "type": "audio/wav"}  # YouTube: only its audio is on disk


async def _media(studio: Studio, request: Request) -> Response:
    slug = request.path_params["slug"]
    card = studio.card(slug)
    prepared = prepare.last_prepared(card.folder)
    path = prepared and (prepared.media or prepared.audio)
    if not path or not path.is_file():
        raise HTTPException(404, f"{slug} has no prepared media yet: publish it first.")
    try:
        within(path, card.folder, "the prepared media")
    except PipelineError:
        raise HTTPException(404, "The media file is a link out of the interview's folder.") from None
    return FileResponse(path, media_type=_media_kind(prepared)["type"])


async def _data(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    slug = request.path_params["slug"]
    try:
        entry = await run_in_threadpool(studio.data, slug)
    except PipelineError as e:
        return JSONResponse({"error": e.message}, status_code=422)
    # What changes without the files changing (the second opinion, a publish) goes in front.
    now = json.dumps({"second": studio.second_state(slug, entry.doc),
                      "publish": _job_dict(studio.jobs.get(slug))}, separators=(",", ":"))
    return Response(now[:-1] + "," + entry.data[1:], media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _document_data(studio: Studio, card, doc, found) -> dict:
    """Everything the page's script needs: paragraphs with word times, the queue, the card's
    fields, the files' versions."""
    people = list(dict.fromkeys(n for n in (card.interviewer, *card.guests,
                                            *(p.speaker for p in doc.paragraphs)) if n))
    speakers_json = read_json(doc.folder / "speakers.json", {}) or {}
    auto = chapters.load(doc.folder)
    return {
        "slug": card.slug, "title": card.title, "duration": doc.machine.duration,
        "owner": doc.owner,
        "versions": {"transcript": doc.version, "card": card_fields.version(card.folder)},
        "people": people,
        "paragraphs": [{"start": p.start, "speaker": p.speaker, "text": p.text, "comments": p.comments,
                        "times": [[round(w.start, 2), round(w.end, 2)] for w in p.words]}
                       for p in doc.paragraphs],
        "tail": doc.tail,
        "suspects": [s.to_dict() for s in found],
        "reviewed": card.reviewed,
        "chapters": {"from_card": bool(card.chapters),
                     "items": [{"start": s, "title": t} for s, t in card.chapters] if card.chapters
                     else [{"start": c.start, "title": c.title} for c in auto]},
        "quotes": {"shown": [{"text": q.text, "start": q.start, "speaker": q.speaker, "pinned": q.pinned}
                             for q in quotes.load(doc.folder)],
                   "pin": list(card.quotes.pin), "drop": list(card.quotes.drop)},
        "voices": [{"id": vid, "name": speakers_json.get("names", {}).get(vid, vid),
                    "seconds": v.get("seconds", 0)} for vid, v in (speakers_json.get("voices") or {}).items()],
    }


async def _json_body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "The request is not JSON.") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "The request must be a JSON object.")
    return body


async def _save_transcript(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    slug = request.path_params["slug"]
    body = await _json_body(request)
    card = await run_in_threadpool(studio.card, slug)
    try:
        paragraphs = document.paragraphs_from(body.get("paragraphs") or [])
        tail = [str(c) for c in body.get("tail") or [] if str(c).startswith("# ")]
        result = await run_in_threadpool(document.save, studio.project, card, paragraphs, tail,
                                         body.get("version"), bool(body.get("force")),
                                         studio.machine(card))
    except PipelineError as e:  # refused: publish would not read it as the editor meant it
        return JSONResponse({"refused": e.message}, status_code=422)
    if isinstance(result, document.Conflict):
        return JSONResponse(_conflict(result), status_code=409)
    studio.forget(slug)
    return JSONResponse({"written": result.written, "version": result.version, "owner": result.owner})


def _conflict(conflict: document.Conflict) -> dict:
    return {"conflict": conflict.what, "version": conflict.version, "diff": conflict.diff,
            "disk": conflict.disk, "mine": conflict.mine}


async def _save_card(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    slug = request.path_params["slug"]
    body = await _json_body(request)
    card = await run_in_threadpool(studio.card, slug)
    changes = body.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise HTTPException(400, "Nothing to change.")
    try:
        result = await run_in_threadpool(card_fields.save, card.folder, changes,
                                         str(body.get("version") or ""), bool(body.get("force")))
    except (card_fields.CardRefused, CardError) as e:
        return JSONResponse({"refused": e.message, "problems": getattr(e, "problems", [])},
                            status_code=422)
    if isinstance(result, document.Conflict):
        return JSONResponse(_conflict(result), status_code=409)
    studio.forget(slug)
    return JSONResponse({"version": result.version})


async def _review(studio: Studio, request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    slug = request.path_params["slug"]
    body = await _json_body(request)
    card = await run_in_threadpool(studio.card, slug)
    keys = [str(k) for k in body.get("accept") or [] if isinstance(k, str)][:10_000]
    undo = [str(k) for k in body.get("undo") or [] if isinstance(k, str)][:10_000]
    out = studio.project.transcript_folder(card.slug)
    if keys:
        await run_in_threadpool(review.accept, out, keys)
    if undo:
        await run_in_threadpool(review.accept, out, undo, True)
    return JSONResponse({"accepted": len(review.accepted(out))})


def _job_dict(job: Job | None) -> dict | None:
    if job is None:
        return None
    return {"slug": job.slug, "state": job.state, "message": job.message, "lines": job.lines,
            "page": f"/site/{job.slug}/" if job.state == "published" else None}


async def _publish(studio: Studio, request: Request) -> Response:
    slug = request.path_params["slug"]
    studio.card(slug)
    if request.method == "POST":
        job = studio.publish(slug)
        return JSONResponse(_job_dict(job), status_code=409 if job.state == "refused" else 202)
    return JSONResponse(_job_dict(studio.jobs.get(slug)) or {"state": "none"})


async def _second(studio: Studio, request: Request) -> Response:
    slug = request.path_params["slug"]
    studio.card(slug)
    return JSONResponse({"state": studio.hear_again(slug)})


def new_token() -> str:
    return os.urandom(24).hex()
