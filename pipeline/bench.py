"""`make bench`: run every benchmark and print its numbers (speed goals live here, not in tests).

    python -m pipeline.bench            # all of them
    python -m pipeline.bench search     # only the named ones

Each benchmark is a module with `main(argv) -> dict` that prints its own report.
"""

from __future__ import annotations

import sys

from pipeline import bench_search

BENCHMARKS = {"search": bench_search.main}


def main(argv: list[str] | None = None) -> None:
    names = (sys.argv[1:] if argv is None else argv) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        BENCHMARKS[name]([])


if __name__ == "__main__":
    main()
