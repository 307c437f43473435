"""`make bench`: run every benchmark and print its numbers (speed goals live here, not in tests).

    python -m bench                    # all of them
    python -m bench search             # only the named ones
    python -m bench --quick [NAME ...] # smaller runs, to check that they work

Each benchmark is a module with `main(argv) -> dict` that prints its own report.
"""

from __future__ import annotations

import sys

from bench import cluster, engines, search, serve, speakers

BENCHMARKS = {"engines": engines.main, "speakers": speakers.main, "search": search.main,
              "serve": serve.main, "cluster": cluster.main}
# What --quick passes to each: a 3-minute interview; 1.5-minute conversations; a 50-hour
# archive; a 256 MB video; two interviews on the cluster.
QUICK = {"engines": ["--quick"], "speakers": ["--quick"], "search": ["--hours", "50"],
         "serve": ["--size-mb", "256"], "cluster": ["--quick"]}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    names = [a for a in args if a != "--quick"] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        BENCHMARKS[name](QUICK[name] if quick else [])


if __name__ == "__main__":
    main()
