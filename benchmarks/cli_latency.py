"""CLI latency: wall time of a one-off `lecture-bot ask "…"`, as a member's script would run it.

Each command runs as a new process from the repository root (so the default knowledge/
folder is used), its output captured. The first run only warms the OS file cache and
jieba's dictionary cache (/tmp/jieba.cache) and is not counted; the next 5 are timed with
`time.perf_counter` around `subprocess.run`, and the minimum and median are reported.

Compared with a bare `python -c "import jieba; jieba.lcut('党员')"` on the same interpreter
(the cost of starting Python and loading jieba's dictionary, which every answer needs) and
`python -c pass` (interpreter start-up alone). The issue's target: under 2 s.

Writes benchmarks/results/cli_latency.txt (the printed text).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import REPO_ROOT, Report, load_average

QUESTION = "党员网络行为规定是什么时候印发的"
RUNS = 5
TARGET_S = 2.0
LECTURE_BOT = "lecture-bot ask"
BARE_JIEBA = "bare jieba"


@dataclass(frozen=True)
class Timing:
    label: str
    command: tuple[str, ...]
    seconds: tuple[float, ...]
    first_output_line: str

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def commands() -> dict[str, tuple[str, ...]]:
    """The commands to time; the entry point is the one installed next to this Python."""
    python = sys.executable
    return {
        LECTURE_BOT: (str(Path(python).parent / "lecture-bot"), "ask", QUESTION),
        BARE_JIEBA: (python, "-c", "import jieba; jieba.lcut('党员')"),
        "python -c pass": (python, "-c", "pass"),
    }


def run_once(command: Sequence[str]) -> tuple[float, str]:
    """Wall time of the command as a new process, and its output; raises if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
    return elapsed, done.stdout


def measure(label: str, command: Sequence[str]) -> Timing:
    _, output = run_once(command)  # warm-up, not counted
    seconds = tuple(run_once(command)[0] for _ in range(RUNS))
    first_line = next((line for line in output.splitlines() if line.strip()), "")
    return Timing(label, tuple(command), seconds, first_line)


def print_results(say: Report, timings: dict[str, Timing], started: str) -> None:
    say(f"CLI latency, {started}: wall time of a new process, 1 warm-up run then {RUNS} timed "
        "runs")
    width = max(map(len, timings)) + 2
    say("command".ljust(width) + f"{'min s':>8}{'median s':>10}   runs (s)")
    for label, timing in timings.items():
        runs = " ".join(f"{s:.2f}" for s in timing.seconds)
        say(label.ljust(width) + f"{timing.best:>8.2f}{timing.median:>10.2f}   {runs}")
    say()
    for label, timing in timings.items():
        say(f"  {label}: {' '.join(_shown(arg) for arg in timing.command)}")
    ours, bare = timings[LECTURE_BOT], timings[BARE_JIEBA]
    say()
    say(f"lecture-bot ask over bare jieba (median): +{ours.median - bare.median:.2f} s "
        f"({ours.median / bare.median:.2f}x)")
    verdict = "met" if ours.median < TARGET_S else "NOT met"
    say(f"target: median under {TARGET_S:.0f} s -> {verdict} ({ours.median:.2f} s)")
    say(f"answer's first line: {ours.first_output_line}")


def _shown(arg: str) -> str:
    return f'"{arg}"' if " " in arg or not arg.isascii() else arg


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m benchmarks.cli_latency",
                            description=__doc__.split("\n", 1)[0]).parse_args(argv)
    started = f"{time.strftime('%Y-%m-%d %H:%M:%S')} (load average {load_average()})"
    timings = {}
    for label, command in commands().items():
        if not Path(command[0]).is_file():
            print(f"not found: {command[0]} (install the project: make test, or pip install -e .)",
                  file=sys.stderr)
            return 2
        try:
            timings[label] = measure(label, command)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    say = Report()
    print_results(say, timings, started)
    say.save("cli_latency.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
