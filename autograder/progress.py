"""Progress while a class is graded: a tqdm bar on a terminal, one plain line per submission elsewhere.

    progress = Progress(total=40, done=12)   # 12 were already graded by an earlier run
    progress.finished(result)                # after each submission; its own time is result.seconds
    progress.close()

On a terminal (stderr is a TTY) tqdm draws the bar with the counts, the elapsed time and its estimate of
the time left, and each finished submission is written above it. When stderr is a file or a pipe (CI, the
tests, `2> log`), no bar is drawn; each submission gets one line that starts `[done/total]` and ends with
tqdm's estimate of the time left, so a log reads the same as before the bar existed.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tqdm import tqdm

from autograder import report


def line(done: int, total: int, result: report.Result) -> str:
    """What is said about one finished submission: counts, score, status, why, and its own time."""
    score = f"{report.number(result.score)}/{report.number(result.max_score)}"
    detail = f" — {result.message}" if result.status != "graded" and result.message else ""
    return (
        f"[{done}/{total}] {result.student_id} {result.assignment}: {score} {result.status}{detail}"
        f" ({result.seconds:.1f} s)"
    )


class Progress:
    """Counts finished submissions on stderr and estimates the time left (tqdm's rate, smoothed)."""

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        # Without a terminal the bar is kept but drawn nowhere: tqdm still measures the rate.
        self._sink = None if self.interactive else open(os.devnull, "w")  # noqa: SIM115 (closed in close())
        self.bar = tqdm(
            total=total,
            initial=done,
            unit="notebook",
            file=self.stream if self.interactive else self._sink,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def left(self) -> str:
        """tqdm's estimate of the time left, as it prints it ('01:23'), or '?' before it has a rate."""
        info = self.bar.format_dict
        rate, remaining = info.get("rate"), info["total"] - info["n"]
        if remaining <= 0:
            return "00:00"
        if not rate:
            elapsed, graded = info["elapsed"], info["n"] - info.get("initial", 0)
            rate = graded / elapsed if graded and elapsed else None
        return tqdm.format_interval(remaining / rate) if rate else "?"

    def finished(self, result: report.Result) -> None:
        """Count one finished submission and say how it went."""
        self.bar.update(1)
        text = line(self.bar.n, self.bar.total, result)
        if self.interactive:
            self.bar.write(text, file=self.stream)
        else:
            print(f"{text}; about {self.left()} left", file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()
        if self._sink is not None:
            self._sink.close()
