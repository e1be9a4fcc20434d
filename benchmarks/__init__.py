"""Benchmarks for lecture-bot: retrieval quality and speed, and command-line start-up time.

Run from the repository root:

    python -m benchmarks.retrieval      # CMRC 2018 dev + the gold set, vs rank_bm25 and bm25s
    python -m benchmarks.reading        # the reader on CMRC 2018 dev, held out (--write trains)
    python -m benchmarks.decision       # the answer decision, cross-validated (--write trains)
    python -m benchmarks.scale          # answer path and build over 848 and 8,480 lectures vs bm25s
    python -m benchmarks.cli_latency    # wall time of `lecture-bot ask` as a new process
    python -m benchmarks.bot            # 1,000 questions through the fake Bot API server
    python -m benchmarks.push           # a start-up push to 1,000 subscribed chats
    python -m benchmarks.publish        # 发布 → the new lecture is searchable
    python -m benchmarks.quiz           # loading the quiz questions, with and without their files
    python -m benchmarks.records        # a month of 200 members as the 学习台账 workbook
    python -m benchmarks.links          # question links: false matches, answer p50 with 1,000
    python -m benchmarks.upload         # answers while a 20,000-paragraph .docx is previewed
    python -m benchmarks.cluster        # webhooks on SQLite/PostgreSQL, takeover, push per engine

Each prints a table and saves the same text under `benchmarks/results/`. This module holds
the little they share: where things are, and a report that prints and keeps its lines.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


class Report:
    """Lines printed as they come and kept, so the results file is exactly what was shown."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def save(self, filename: str) -> Path:
        return write_result(filename, "\n".join(self.lines) + "\n")


def write_result(filename: str, text: str) -> Path:
    """Writes `text` to benchmarks/results/`filename` and returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / filename
    path.write_text(text, encoding="utf-8")
    return path


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: other work there slows what we time."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def positive_int(text: str) -> int:
    """argparse type for counts such as --questions N."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
