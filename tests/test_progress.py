"""Progress while grading (autograder.progress): tqdm's bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import re

from autograder import progress, report


class Stream(io.StringIO):
    """A stderr that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _result(student: str, seconds: float, status: str = "graded", message: str = "") -> report.Result:
    cells = [report.CellScore("a.ipynb", "test_f", 1.0, 2.0)]
    return report.Result(student, "01_activations", status, message, cells, "fp", seconds)


def test_without_a_terminal_each_submission_is_one_line_with_its_own_time() -> None:
    stream = Stream(tty=False)
    bar = progress.Progress(total=4, done=1, stream=stream)  # one done by an earlier run
    bar.finished(_result("ann", 3.25))
    bar.finished(_result("bob", 11.0, "timeout", "a cell ran past the time limit"))
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()  # no bar drawn into a log
    assert re.fullmatch(
        r"\[2/4\] ann 01_activations: 1/2 graded \(3\.2 s\); about (\d\d:\d\d|\?) left", lines[0]
    )
    assert lines[1].startswith(
        "[3/4] bob 01_activations: 1/2 timeout — a cell ran past the time limit (11.0 s);"
    )


def test_on_a_terminal_tqdm_draws_the_bar_with_counts_and_time_left() -> None:
    stream = Stream(tty=True)
    bar = progress.Progress(total=3, stream=stream)
    bar.finished(_result("ann", 2.0))
    bar.finished(_result("bob", 4.0))
    shown = stream.getvalue()
    bar.close()
    assert "[1/3] ann 01_activations: 1/2 graded (2.0 s)" in shown
    assert "[2/3] bob 01_activations: 1/2 graded (4.0 s)" in shown
    assert re.search(r"2/3 \[\d\d:\d\d<\d\d:\d\d", shown), shown  # tqdm's counts, elapsed<left
