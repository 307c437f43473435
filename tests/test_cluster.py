"""Publishing on a Dask cluster: real scheduler and worker processes (Dask's own `dask
scheduler` and `dask worker` commands, or a LocalCluster), on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import add_interview
from test_bad_input import snapshot, start_publish, wait_for

DASK = str(Path(sys.executable).parent / "dask")
# The same decoding on the cluster and here, so that the files can be compared byte for byte
# (a worker decodes on one thread; batches made differently move word times a little).
SETTINGS = "transcribe: {threads: 1}\n"
SLUGS = ("first-talk", "second-talk", "third-talk")


def three_interviews(project: Path, short_speech) -> None:
    (project / "site.yaml").write_text(SETTINGS)
    for slug, media in zip(SLUGS, ("mp4", "mp3", "wav")):
        add_interview(project, slug, short_speech[media])


@pytest.fixture(scope="module")
def local_publish(short_speech, tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("local")
    three_interviews(project, short_speech)
    done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(project), "-q", "publish"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return project


def same_files(project: Path, reference: Path) -> None:
    for slug in SLUGS:
        assert snapshot(project, slug) == snapshot(reference, slug), slug
    for name in ("index.html", "feed.xml", "rss.xml", "sitemap.xml"):
        assert (project / "site" / name).read_text() == (reference / "site" / name).read_text()


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, workers: int = 2, worker_env: dict | None = None,
                 worker_prefix: list[str] = ()):
    """`dask scheduler` and `dask worker` processes on 127.0.0.1; yields the address."""
    scheduler_file = tmp_path / "scheduler.json"
    processes = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 30
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for n in range(workers):
            processes.append(subprocess.Popen(
                [*worker_prefix, DASK, "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--name", f"worker-{n}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, **(worker_env or {})}))
        wait_for_workers(address, workers)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout=20) as client:
        client.wait_for_workers(count, timeout=60)


def worker_pids(address: str) -> dict[str, int]:
    from distributed import Client

    with Client(address, timeout=20) as client:
        return client.run(os.getpid)


def test_a_local_cluster_publishes_the_same_files(local_publish, short_speech, tmp_path):
    three_interviews(tmp_path, short_speech)
    done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(tmp_path), "publish",
                           "--scheduler", "local", "--jobs", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"published {len(SLUGS)} interview(s)" in done.stderr
    workers = set(re.findall(r"transcribing .*\[(tcp://[\d.:]+)\]", done.stderr))
    assert len(workers) == 2, done.stderr  # both worker processes did work, and said where
    same_files(tmp_path, local_publish)


def test_workers_of_a_real_scheduler_share_the_work_and_load_the_model_once(
        local_publish, short_speech, tmp_path):
    from distributed import Client

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    three_interviews(tmp_path, short_speech)
    with dask_cluster(tmp_path) as address:
        (tmp_path / "site.yaml").write_text(SETTINGS + f"cluster: {address}\n")  # as site.yaml says
        done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(tmp_path), "publish"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        with Client(address, timeout=20) as client:
            loads = client.run(_model_loads)
    assert sum(loads.values()) <= len(loads) and all(n <= 1 for n in loads.values()), loads
    (tmp_path / "site.yaml").write_text(SETTINGS)
    same_files(tmp_path, local_publish)


def _model_loads() -> int:
    """Run on a worker (sent by value: workers cannot import this test module)."""
    from pipeline.stages import engines

    return engines._faster.cache_info().misses


def test_a_worker_killed_during_transcription_is_replaced(local_publish, short_speech, tmp_path):
    three_interviews(tmp_path, short_speech)
    with dask_cluster(tmp_path) as address:
        pids = worker_pids(address)
        process = start_publish(tmp_path, "--scheduler", address)
        seen = wait_for(process, "transcribing")
        worker = re.search(r"transcribing .*\[(tcp://[\d.:]+)\]", seen)[1]
        os.kill(pids[worker], signal.SIGKILL)
        assert process.wait(timeout=300) == 0, process.stderr.read()
    same_files(tmp_path, local_publish)


def test_an_unreachable_scheduler_is_named(short_speech, tmp_path, run_cli):
    add_interview(tmp_path, "talk", short_speech["mp3"])
    started = time.monotonic()
    result = run_cli(tmp_path, "publish", "--scheduler", "tcp://127.0.0.1:9")
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert "Cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 10 s" in result.output
    assert "Traceback" not in result.output


def test_a_worker_that_cannot_see_the_project_is_named(short_speech, tmp_path):
    """The worker runs in a mount namespace of its own, where a tmpfs hides the project: as a
    worker on another machine without the shared filesystem would see it."""
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace here (needs root): no way to hide the project")
    project = tmp_path / "project"
    add_interview(project, "talk", short_speech["mp3"])
    hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount -t tmpfs tmpfs "{project}" && exec "$@"', "hide"]
    with dask_cluster(tmp_path, workers=1, worker_prefix=hide) as address:
        done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(project), "publish",
                               "--scheduler", address], capture_output=True, text=True)
    assert done.returncode == 1
    assert "do not see the project at" in done.stderr and "shares" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_running_another_version_is_named(short_speech, tmp_path):
    other = tmp_path / "other-version"
    shutil.copytree(Path(__file__).resolve().parent.parent / "pipeline", other / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "pipeline" / "build.py", "a") as f:
        f.write("\n# another version\n")
    project = tmp_path / "project"
    add_interview(project, "talk", short_speech["mp3"])
    with dask_cluster(tmp_path, workers=1, worker_env={"PYTHONPATH": str(other)}) as address:
        done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(project), "publish",
                               "--scheduler", address], capture_output=True, text=True)
    assert done.returncode == 1
    assert "run another version of the pipeline" in done.stderr and "Traceback" not in done.stderr


def test_a_users_mistake_is_reported_once_and_ctrl_c_cancels_the_work(short_speech, tmp_path):
    from distributed import Client

    add_interview(tmp_path, "good", short_speech["mp3"])
    broken = add_interview(tmp_path, "broken", short_speech["mp3"])
    (broken / "short.mp3").write_bytes(b"\0not media" * 100)
    with dask_cluster(tmp_path) as address:
        done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(tmp_path), "publish",
                               "--scheduler", address], capture_output=True, text=True)
        assert done.returncode == 1
        assert done.stderr.count("FAILED broken") == 1 and "cannot read it as audio" in done.stderr
        assert "published 1 interview(s)" in done.stderr
        assert "Traceback" not in done.stderr
        # Ctrl-C while the workers transcribe: 130, and the scheduler is left with no work.
        for slug in ("late-one", "late-two"):
            add_interview(tmp_path, slug, short_speech["mp4"])
        process = start_publish(tmp_path, "--scheduler", address, "--force")
        wait_for(process, "transcribing")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        with Client(address, timeout=20) as client:
            deadline = time.monotonic() + 60
            while any(client.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(client.processing().values())
        # The interview still waiting for a worker was cancelled, never transcribed.
        assert not (tmp_path / "transcripts" / "late-two" / "transcript.machine.json").exists()
