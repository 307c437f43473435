"""The package as users get it: commands import only what they need, and a built wheel
(installed without -e) carries its templates and publishes a site."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, add_interview

# What no light command may load: the stages and the libraries behind them.
HEAVY = ("pipeline.stages", "pipeline.build", "pipeline.site", "pipeline.search", "numpy",
         "torch", "jinja2", "yt_dlp", "faster_whisper", "ctranslate2", "sqlite_utils",
         "distributed", "dask")


def loaded_modules(code: str, cwd: Path) -> list[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=cwd, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_importing_the_cli_loads_no_stage(tmp_path):
    assert heavy(loaded_modules("import pipeline.cli", tmp_path)) == []


def test_search_and_status_load_only_what_they_need(tmp_path):
    (tmp_path / "media").mkdir()
    search = loaded_modules(
        "from pipeline.cli import cli\n"
        "try:\n    cli(['-C', '.', 'search', 'library'], standalone_mode=False)\n"
        "except Exception as e:\n    assert 'No search database' in str(e), e", tmp_path)
    assert "pipeline.search.query" in search
    assert [m for m in heavy(search) if not m.startswith("pipeline.search")] == []
    status = loaded_modules("from pipeline.cli import cli\ncli(['-C', '.', 'status'], standalone_mode=False)",
                            tmp_path)
    assert not [m for m in status if m.startswith(("torch", "jinja2", "pipeline.site", "pipeline.search"))]


def test_a_built_wheel_carries_its_templates_and_publishes(tmp_path, short_speech):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    shutil.copytree(ROOT / "pipeline", source / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("interview_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"pipeline/site/templates/post.html", "pipeline/site/templates/static/player.js",
            "pipeline/site/templates/static/style.css"} <= set(names)
    studio = ROOT / "pipeline" / "studio" / "templates"
    assert {f"pipeline/studio/templates/{p.relative_to(studio)}" for p in studio.rglob("*") if p.is_file()
            and "__pycache__" not in p.parts} <= set(names)  # the studio's pages, scripts and styles
    from pipeline.studio.app import STATIC
    assert {f"pipeline/studio/templates/static/{name}" for name in STATIC} <= set(names)
    assert not [n for n in names if n.startswith(("bench/", "tests/"))]

    # Installed as pip installs a wheel: its files on sys.path ahead of the editable checkout.
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    project = tmp_path / "project"
    add_interview(project, "audio-talk", short_speech["mp3"])
    env = {"PYTHONPATH": str(installed), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(tmp_path)}
    where = subprocess.run([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"],
                           capture_output=True, text=True, cwd=project, env=env, check=True)
    assert where.stdout.strip().startswith(str(installed))
    result = subprocess.run([sys.executable, "-m", "pipeline", "-q", "publish"], capture_output=True,
                            text=True, cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    page = (project / "site" / "audio-talk" / "index.html").read_text()
    assert "<audio" in page and (project / "site" / "static" / "player.js").is_file()
