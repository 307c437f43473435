"""Bad input and rough handling: clear messages, nothing lost, nothing half-written.

The kill, lock and Ctrl-C tests run a real `pipeline publish` process and really signal it.
"""

import contextlib
import functools
import http.server
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import ffmpeg
import pytest

from bench.synth import synthesize_interview
from conftest import add_interview, ctrl_c_as_in_a_terminal, edit_a_word, http_server, write_card
from pipeline.files import sha256_file

PIPELINE = [sys.executable, "-m", "pipeline"]


def start_publish(project, *args):
    return subprocess.Popen([*PIPELINE, "-C", str(project), "-v", "publish", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=ctrl_c_as_in_a_terminal)


def wait_for(process, text, timeout=120):
    """Read the process's stderr until a line contains `text`; return what was read."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    process.kill()
    raise AssertionError(f"never saw {text!r}; stderr was:\n{''.join(seen)}")


def leftovers(project):
    return [p for p in project.rglob("*") if ".tmp-" in p.name or p.name.startswith(".download-")]


def snapshot(project, slug):
    """sha256 of every file an interview's publish leaves: its media, its transcripts (stamps
    aside) and its page folder. provenance.json and info.json record when they were fetched,
    and the card (an input) names the test server's port, so they are left out."""
    places = [project / "media" / slug, project / "transcripts" / slug, project / "site" / slug]
    return {str(path.relative_to(project)): sha256_file(path)
            for folder in places for path in sorted(folder.rglob("*"))
            if path.is_file() and ".stamps" not in path.parts
            and path.name not in ("provenance.json", "info.json", "interview.yaml")}


def _still_running(project, wait: float = 3.0) -> list[str]:
    """Command lines of processes still working in the project (a download, an ffmpeg)."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(project) in text and "pytest" not in text:
                found.append(text[:200])
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files in small slow chunks, so a download can be interrupted half-way."""

    def copyfile(self, source, outputfile):
        while chunk := source.read(16384):
            outputfile.write(chunk)
            time.sleep(0.05)

    def log_message(self, *args):
        pass


def slow_server(folder):
    return http_server(functools.partial(SlowHandler, directory=str(folder)))


@pytest.fixture(scope="module")
def reencode_source(short_speech, tmp_path_factory):
    """A video that needs re-encoding (MPEG-4 part 2 in MKV), so prepare takes a while."""
    path = tmp_path_factory.mktemp("mkv") / "talk.mkv"
    ffmpeg.output(ffmpeg.input("testsrc2=size=1280x720:rate=25", f="lavfi", t=10),
                  ffmpeg.input(str(short_speech["wav"])), str(path),
                  vcodec="mpeg4", acodec="libvorbis", shortest=None).run(quiet=True)
    return path


@pytest.fixture(scope="module")
def baseline(reencode_source, short_speech, tmp_path_factory):
    """The same interviews published without interruption."""
    project = tmp_path_factory.mktemp("baseline")
    add_interview(project, "talk", reencode_source)
    with slow_server(short_speech["mp4"].parent) as url:
        write_card(project, "remote", f"{url}/short.mp4")
        process = start_publish(project)
        assert process.wait(timeout=300) == 0, process.stderr.read()
    return project


# (interview, a line of its log, the stage that line falls in, where its stamp is, a line of
# that stage's work in the rerun's log)
KILLS = [
    ("remote", "remote: downloading", "fetch", "media", "remote: downloading"),
    ("talk", "talk: encoding web video", "prepare", "media", "talk: encoding web video"),
    ("talk", "talk: transcribing", "transcribe", "transcripts", "talk: transcribing"),
    ("talk", "talk: transcribed", "speakers", "transcripts", "talk: told"),
]


@pytest.mark.parametrize("slug, moment, stage, place, work", KILLS)
def test_killed_run_recovers_to_the_same_result(slug, moment, stage, place, work, baseline,
                                                  reencode_source, short_speech, tmp_path):
    add_interview(tmp_path, "talk", reencode_source)
    stamp = tmp_path / place / slug / ".stamps" / f"{stage}.json"
    with slow_server(short_speech["mp4"].parent) as url:
        write_card(tmp_path, "remote", f"{url}/short.mp4")
        process = start_publish(tmp_path, slug)
        wait_for(process, moment)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        assert not stamp.exists(), f"the {stage} stage had finished before the kill"
        assert _still_running(tmp_path) == [], "a child of the killed publish is still at work"
        again = start_publish(tmp_path)
        log = again.communicate(timeout=300)[1]
        assert again.returncode == 0, log
    assert work in log, f"the rerun did not redo {stage}:\n{log}"
    assert stamp.exists()
    assert leftovers(tmp_path) == []
    for name in ("talk", "remote"):
        assert snapshot(tmp_path, name) == snapshot(baseline, name)


def test_two_publishes_at_once_refuse_clearly(reencode_source, tmp_path):
    add_interview(tmp_path, "talk", reencode_source)
    first = start_publish(tmp_path)
    wait_for(first, "talk: preparing")
    second = subprocess.run([*PIPELINE, "-C", str(tmp_path), "publish"], capture_output=True,
                            text=True, timeout=60)
    assert first.wait(timeout=300) == 0
    assert second.returncode == 1
    assert "Another publish is running" in second.stderr and "Traceback" not in second.stderr
    assert (tmp_path / "site" / "talk" / "index.html").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_cleanly_and_says_what_finished(short_speech, reencode_source, tmp_path, jobs):
    add_interview(tmp_path, "a-first", short_speech["mp4"])
    add_interview(tmp_path, "b-second", reencode_source)
    process = start_publish(tmp_path, "--jobs", jobs)
    wait_for(process, "b-second: transcribing")
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=60)
    message = process.stderr.read()
    assert code == 130, message
    assert "Traceback" not in message
    if jobs == "1":  # one after the other: the first was finished
        assert "Interrupted while working on b-second:" in message
        assert "Finished before that: a-first" in message
    else:  # both at once: the first may still have been at work too
        assert re.search(r"Interrupted while working on (a-first, )?b-second:", message)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "transcripts" / "b-second" / "transcript.json").exists()


def test_the_pages_media_failing_beside_transcription_fail_only_their_interview(short_speech, project, run_cli):
    """prepare makes the page's media in the background while the words are heard: when
    that fails (here a folder stands where the video goes), that interview fails with the
    file named, the others publish, and nothing half-made is left."""
    folder = add_interview(project, "in-the-way", short_speech["mp4"])
    (folder / "video.mp4").mkdir()
    add_interview(project, "fine", short_speech["mp4"])
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert re.search(r"FAILED in-the-way: .*in-the-way/video\.mp4", result.stderr), result.stderr
    assert (project / "site" / "fine" / "index.html").exists()
    assert not (project / "site" / "in-the-way").exists() and leftovers(project) == []


def test_truncated_file(short_speech, project, run_cli):
    folder = add_interview(project, "cut-short", short_speech["mp4"])
    data = (folder / "short.mp4").read_bytes()
    (folder / "short.mp4").write_bytes(data[: len(data) // 2])
    add_interview(project, "fine", short_speech["mp4"])
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "cut-short" in result.stderr and "truncated" in result.stderr
    assert (project / "site" / "fine" / "index.html").exists()
    assert not (folder / "audio.wav").exists() and leftovers(project) == []


def test_silent_recording_publishes_with_no_speech_notice(project, run_cli, tmp_path):
    silent = tmp_path / "silence.mp3"
    ffmpeg.input("anullsrc=r=44100:cl=mono", f="lavfi", t=8).output(str(silent)).run(quiet=True)
    add_interview(project, "quiet-room", silent)
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    assert "no speech found" in result.stderr
    page = (project / "site" / "quiet-room" / "index.html").read_text()
    assert "No speech was found" in page
    data = json.loads((project / "transcripts" / "quiet-room" / "transcript.json").read_text())
    assert data["segments"] == []


def test_speech_in_another_language_is_reported(project, run_cli, tmp_path):
    german = tmp_path / "german.wav"
    synthesize_interview([{"speaker": "A", "text": "Guten Tag, ich heiße Helen und ich schreibe "
                           "jede Woche einen Blog über die Arbeit im Rathaus."}], {"A": "de"}, german)
    add_interview(project, "auf-deutsch", german)
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "auf-deutsch" in result.stderr and "does not sound like the card's language 'en'" in result.stderr
    assert not (project / "transcripts" / "auf-deutsch" / "transcript.json").exists()


def test_hostile_transcript_text_is_escaped(short_speech, project, run_cli):
    add_interview(project, "hostile-edit", short_speech["mp4"])
    assert run_cli(project, "publish").exit_code == 0
    txt = project / "transcripts" / "hostile-edit" / "transcript.txt"
    txt.write_text("[00:00:00] Eve Hacker: </textarea><script>alert(1)</script> \"quoted\" & more\n")
    assert run_cli(project, "publish").exit_code == 0
    page = (project / "site" / "hostile-edit" / "index.html").read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "</textarea><script>" not in page
    vtt = (project / "transcripts" / "hostile-edit" / "transcript.vtt").read_text()
    assert "<script>" not in vtt and "&lt;script&gt;" in vtt


def test_status_shows_states_edits_and_errors(short_speech, project, run_cli):
    add_interview(project, "good", short_speech["mp4"])
    bad = write_card(project, "bad", "fake.mp4")
    (bad / "fake.mp4").write_bytes(b"not media at all" * 50)
    run_cli(project, "publish")
    edit_a_word(project / "transcripts" / "good" / "transcript.txt")
    result = run_cli(project, "status", "--format", "json")
    rows = {r["slug"]: r for r in json.loads(result.stdout)}
    # Every stage, and the edit publish has not used yet (it would run corrections next).
    assert rows["good"]["stages"] == {"fetch": "local file", "prepare": "done", "transcribe": "done",
                                      "speakers": "done", "corrections": "to publish", "export": "stale",
                                      "chapters": "stale", "quotes": "stale"}
    assert rows["good"]["transcript"] == "corrected by hand" and rows["good"]["next"] == "corrections"
    assert rows["good"]["unpublished"] == ["transcripts/good/transcript.txt"]
    assert run_cli(project, "publish").exit_code == 1  # "bad" still fails
    rows = {r["slug"]: r for r in json.loads(run_cli(project, "status", "--format", "json").stdout)}
    assert set(rows["good"]["stages"].values()) == {"local file", "done"}
    assert rows["good"]["next"] == "nothing" and rows["good"]["unpublished"] == []
    assert rows["bad"]["stages"]["prepare"] == "failed" and "cannot read it" in rows["bad"]["error"]
    shutil.copyfile(short_speech["mp3"], project / "media" / "good" / "short.mp4")  # new source
    rows = {r["slug"]: r for r in json.loads(run_cli(project, "status", "--format", "json").stdout)}
    assert rows["good"]["stages"]["prepare"] == "stale" and rows["good"]["next"] == "prepare"
    table = run_cli(project, "status").stdout
    assert "corrected by hand" in table and "last error" in table


# --- Links: never followed out of the project ------------------------------------------------

SECRET = "PIPELINE_TEST_SECRET=c0ffee-5ec7e7"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "outside" / "secrets.txt"
    path.parent.mkdir()
    path.write_text(f"[00:00:00] Eve Hacker: {SECRET}\n")
    return path


def _nothing_leaked(project):
    for path in project.rglob("*"):
        if path.is_file() and not path.is_symlink() and "outside" not in path.parts:
            assert SECRET.encode() not in path.read_bytes(), f"the secret reached {path}"


def test_a_linked_transcript_txt_is_refused(short_speech, project, run_cli, secret):
    add_interview(project, "linked", short_speech["mp4"])
    add_interview(project, "fine", short_speech["mp3"])
    assert run_cli(project, "publish").exit_code == 0
    txt = project / "transcripts" / "linked" / "transcript.txt"
    txt.unlink()
    txt.symlink_to(secret)
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "FAILED linked" in result.stderr and "is a link to" in result.stderr
    assert "outside" in result.stderr and "Traceback" not in result.output
    assert (project / "site" / "fine" / "index.html").exists()
    _nothing_leaked(project)


@pytest.mark.parametrize("what", ["source", "card", "card folder", "transcripts folder", "machine file"])
def test_links_out_of_the_project_are_refused(what, short_speech, project, run_cli, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    if what == "source":
        shutil.copyfile(short_speech["mp4"], outside / "elsewhere.mp4")
        folder = write_card(project, "linked", "talk.mp4")
        (folder / "talk.mp4").symlink_to(outside / "elsewhere.mp4")
    elif what == "card":
        folder = add_interview(project, "linked", short_speech["mp4"])
        (folder / "interview.yaml").rename(outside / "interview.yaml")
        (folder / "interview.yaml").symlink_to(outside / "interview.yaml")
    elif what == "card folder":
        real = add_interview(outside, "linked", short_speech["mp4"])
        (project / "media" / "linked").symlink_to(real)
    else:
        add_interview(project, "linked", short_speech["mp4"])
        assert run_cli(project, "publish").exit_code == 0
        out = project / "transcripts" / "linked"
        if what == "transcripts folder":
            shutil.move(out, outside / "linked")
            out.symlink_to(outside / "linked")
        else:
            (outside / "chapters.json").write_text(json.dumps({"chapters": [
                {"startTime": 0, "endTime": 1, "title": SECRET}]}))
            (out / "chapters.json").unlink()
            (out / "chapters.json").symlink_to(outside / "chapters.json")
    add_interview(project, "fine", short_speech["mp3"])
    result = run_cli(project, "publish")
    assert result.exit_code == 1, result.output
    assert "FAILED linked" in result.stderr and "link" in result.stderr
    assert "Traceback" not in result.output
    assert (project / "site" / "fine" / "index.html").exists()
    if what == "machine file":
        _nothing_leaked(project)


def test_serve_never_follows_a_link_out_of_the_site(tmp_path, secret):
    import urllib.error
    import urllib.request

    from pipeline.site.serve import make_server

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><title>x</title>")
    (site / "404.html").write_text("<!DOCTYPE html><title>Page not found</title>")
    (site / "leak.txt").symlink_to(secret)
    (site / "same.html").symlink_to(site / "index.html")  # a link inside the site is fine
    server = make_server(site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        for path, headers in (("leak.txt", {}), ("leak.txt", {"Range": "bytes=0-"})):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(urllib.request.Request(url + path, headers=headers))
            assert caught.value.code == 404 and SECRET.encode() not in caught.value.read()
        with urllib.request.urlopen(url + "same.html") as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()


# --- Failures keep the last good page; interrupts anywhere say what finished -----------------

def _listed(project, slug):
    """Where the site lists an interview: index, Atom and RSS feeds, sitemap, its tag page."""
    site = project / "site"
    return {name: f"/{slug}/" in (site / name).read_text()
            for name in ("index.html", "feed.xml", "rss.xml", "sitemap.xml", "tags/kept/index.html")}


@pytest.mark.parametrize("breakage", ["card", "media"])
def test_a_failure_keeps_the_last_good_page_listed_everywhere(breakage, short_speech, project, run_cli):
    folder = add_interview(project, "kept", short_speech["mp4"], tags=["kept"], title="The kept one")
    add_interview(project, "other", short_speech["mp3"], tags=["kept"])
    assert run_cli(project, "publish").exit_code == 0
    page = (project / "site" / "kept" / "index.html").read_text()
    assert all(_listed(project, "kept").values())
    if breakage == "card":
        (folder / "interview.yaml").write_text("title: [unclosed\n")
    else:
        (folder / "short.mp4").write_bytes(b"\0not media any more" * 100)
    result = run_cli(project, "publish")
    assert result.exit_code == 1 and "FAILED kept" in result.stderr
    assert "its last published page stays on the site" in result.stderr
    assert _listed(project, "kept") == dict.fromkeys(_listed(project, "kept"), True)
    assert (project / "site" / "kept" / "index.html").read_text() == page
    assert (project / "media" / "kept" / "audio.wav").exists()  # the last good audio is kept


def test_leftovers_of_a_killed_index_are_removed(short_speech, project, run_cli):
    add_interview(project, "talk", short_speech["mp3"])
    assert run_cli(project, "publish").exit_code == 0
    # What a kill before the site index's swap leaves (and Pagefind's, of earlier versions).
    for name in ("search/.index-x1y2z3", ".pagefind-x1y2z3", ".pagefind-old"):
        (project / "site" / name / "fragment").mkdir(parents=True)
    assert run_cli(project, "publish").exit_code == 0
    assert not list((project / "site").glob(".pagefind-*"))
    assert not list((project / "site" / "search").glob(".index-*"))


SLOW_TEMPLATE = '{% extends "base.html" %}{% block content %}{% for i in range(30000000) %}{% endfor %}{% endblock %}'


@pytest.mark.parametrize("while_, template, log_line", [
    ("rendering the site", "index.html", "site: rendering"),
    ("updating the search database and index", "search.html", "search: updating"),
])
def test_ctrl_c_while_building_the_site(while_, template, log_line, short_speech, tmp_path):
    """A project's own (slow) template keeps the step busy long enough to interrupt it."""
    add_interview(tmp_path, "first", short_speech["mp3"])
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / template).write_text(SLOW_TEMPLATE)
    process = start_publish(tmp_path)
    wait_for(process, log_line)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=60)
    message = process.stderr.read()
    assert code == 130, message
    assert f"Interrupted while {while_}:" in message and "Finished before that: first" in message
    assert "Aborted" not in message and "Traceback" not in message
    assert leftovers(tmp_path) == []


# --- Unclear errors: a full disk, a read-only folder ----------------------------------------

@contextlib.contextmanager
def mounted_tmpfs(where, size_kb: int, read_only: bool = False):
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kb}k" + (",ro" if read_only else "")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): the full-disk and read-only cases "
                    "need a small file system of their own")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named(short_speech, project, run_cli):
    add_interview(project, "talk", short_speech["mp4"])
    assert run_cli(project, "publish").exit_code == 0
    media = project / "media" / "crowded"
    with mounted_tmpfs(media, 256):  # room for the card and the source, not for the audio
        add_interview(project, "crowded", short_speech["mp4"])
        result = run_cli(project, "publish")
        assert result.exit_code == 1
        assert "FAILED crowded" in result.stderr and "the disk is full" in result.stderr
        assert "free some space" in result.stderr and "Traceback" not in result.output
        assert (project / "site" / "talk" / "index.html").exists()
    with mounted_tmpfs(project / "site" / "data", 16):  # the search database does not fit
        (project / "site" / "index.html").unlink()  # some work for the site's build
        result = run_cli(project, "publish")
        assert result.exit_code == 1, result.output
        assert "FAILED search index" in result.stderr and "full" in result.stderr
        assert "Traceback" not in result.output
        assert (project / "site" / "index.html").exists()  # the pages are written


def test_a_read_only_transcripts_folder_is_named(short_speech, project, run_cli):
    add_interview(project, "talk", short_speech["mp3"])
    with mounted_tmpfs(project / "transcripts", 1024, read_only=True):
        result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "FAILED talk" in result.stderr and "cannot write" in result.stderr
    assert "Read-only file system" in result.stderr and "Make it writable" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.stderr


def test_a_damaged_search_database_is_rebuilt(short_speech, project, run_cli):
    add_interview(project, "talk", short_speech["mp3"])
    assert run_cli(project, "publish").exit_code == 0
    db = project / "site" / "data" / "transcripts.db"
    data = bytearray(db.read_bytes())
    page = 4096
    for number in (3, len(data) // page // 2, len(data) // page - 2):  # scribble over pages
        data[number * page:(number + 1) * page] = b"\xa5" * page
    db.write_bytes(bytes(data))
    assert run_cli(project, "search", "words").exit_code == 1  # what a researcher would see
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    assert "rebuilding it" in result.stderr and "1 added" in result.stderr
    hits = json.loads(run_cli(project, "search", "words", "--format", "json").stdout)
    assert hits and hits[0]["slug"] == "talk"
