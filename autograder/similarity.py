"""Copies flagged: every pair of students' answer code compared per assignment, as MOSS does.

    pairs = compare_class(collect.collect(submissions))   # one Pair per two students of an assignment
    write_csv(out / "similarity.csv", pairs)

The answer code of a submission is its answer cells (nbgrader's `solution: true` cells, after the notebook
is rebuilt on the released one as for grading, so a renamed file or stripped metadata change nothing),
joined in notebook order. Each is fingerprinted with copydetect, MOSS's winnowing over Pygments tokens
(every name becomes V or F and strings S, comments and blank lines vanish, so renamed variables and
rewritten comments do not hide a copy, and reordered functions only lose the passages across a boundary). Two kinds of passage are boilerplate and never count: the released
notebook's code (the stubs, signatures and docstrings the students were given), and passages that many
students of the class wrote alike (what everybody writes, as MOSS's `-m` option ignores them).

A pair's similarity is the larger of the two shares of answer code found in the other. A pair is flagged
only when it is far above what the assignment's pairs score typically (the median, plus a margin and four
robust standard deviations), above an absolute floor, and when the code they share is long enough to
tell: short answers that everybody writes alike (`np.maximum(x, 0)`) never flag anyone. The typical score
is measured among the students who wrote code of their own (not blank notebooks); with fewer than three
of them there is nothing to compare with, and nothing is flagged. A flag is a reason to look at the two
notebooks, not a verdict.
"""

from __future__ import annotations

import copy
import io
import itertools
import logging
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage

from autograder import collect, course, repair, report

log = logging.getLogger(__name__)

COLUMNS = ["assignment", "student_a", "student_b", "similarity", "flagged"]
# copydetect's defaults: noise and guarantee thresholds of 25 characters of tokenised code (a name is one
# character; about one short statement), so a winnowing window of 1, which keeps every k-gram. A wider
# window would also make runs differ: copydetect hashes with Python's hash(), seeded anew in each process,
# and the window's minimum would pick other fingerprints, and flags, every time.
NOISE = 25
WINDOW = 1
# A passage that this many students wrote is what everybody writes, boilerplate: a fifth of the class, at
# least 3 (two copies and one more) and at most 10 (MOSS's default for its option -m).
COMMON_SHARE, COMMON_LEAST, COMMON_MOST = 0.2, 3, 10
FLOOR = 0.6  # never flag a pair whose answer code is less alike than this
MARGIN = 0.3  # ... nor one less than this above the assignment's median pair
SPREADS = 4  # ... nor one less than this many robust standard deviations above it
MIN_SHARED = 120  # characters of tokenised code in common (about five statements): less cannot tell


@dataclass(frozen=True)
class Pair:
    """Two students' answer code for one assignment, compared."""

    assignment: str
    student_a: str
    student_b: str
    similarity: float  # 0..1: the larger share of either's answer code found in the other
    shared: int  # characters of tokenised answer code in common, boilerplate and common passages left out
    flagged: bool = False


def _is_answer(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def answer_code(nb: nbformat.NotebookNode) -> str:
    """The source of a notebook's answer cells, in notebook order."""
    return "\n\n".join(cell.source for cell in nb.cells if _is_answer(cell))


def released_code(assignment: str) -> list[str]:
    """What students were given: each released notebook's answer cells joined as answer_code joins a
    student's (so a blank answer matches across cell boundaries too), and each of its code cells."""
    given = []
    for name in course.notebook_names(assignment):
        nb = nbformat.read(course.RELEASE / assignment / name, as_version=4)
        given.append(answer_code(nb))
        given += [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return given


def submission_code(sub: collect.Submission) -> str:
    """A submission's answer code, as it is graded (rebuilt on the released notebook); '' if unreadable."""
    repaired = repair.repair(sub.assignment, sub.notebooks)
    return "\n\n".join(answer_code(r.notebook) for r in repaired.values() if r.notebook is not None)


def _fingerprint(name: str, code: str) -> CodeFingerprint:
    """copydetect's fingerprint of some Python code (the name only tells Pygments the language)."""
    return CodeFingerprint(f"{name}.py", NOISE, WINDOW, fp=io.StringIO(code))


def _without(fingerprint: CodeFingerprint, boilerplate: set[int]) -> CodeFingerprint:
    """The fingerprint with the boilerplate passages taken out.

    Done here rather than by CodeFingerprint's own boilerplate argument: copydetect 0.5.0 intersects with
    assume_unique=True a list that repeats a hash whenever a passage occurs twice, so a passage a student
    wrote twice would count as boilerplate, and a given passage used twice would be removed only once.
    """
    kept = copy.copy(fingerprint)
    kept.hashes = fingerprint.hashes - boilerplate
    kept.hash_idx = {h: where for h, where in fingerprint.hash_idx.items() if h not in boilerplate}
    kept.token_coverage = get_token_coverage(kept.hash_idx, NOISE, len(fingerprint.filtered_code))
    return kept


def _common_hashes(prints: dict[str, CodeFingerprint]) -> set[int]:
    """Fingerprints that so many students have that they say nothing about copying."""
    needed = min(COMMON_MOST, max(COMMON_LEAST, math.ceil(COMMON_SHARE * len(prints))))
    counts = Counter(value for fingerprint in prints.values() for value in fingerprint.hashes)
    return {value for value, count in counts.items() if count >= needed}


def threshold(similarities: list[float]) -> float:
    """The similarity a pair must reach to be flagged, from the assignment's pairs; above 1 when too few."""
    if len(similarities) < 3:
        return math.inf
    typical = statistics.median(similarities)
    spread = 1.4826 * statistics.median(abs(s - typical) for s in similarities)
    return max(FLOOR, typical + max(MARGIN, SPREADS * spread))


def compare(assignment: str, codes: dict[str, str], given: Sequence[str] = ()) -> list[Pair]:
    """Every pair of the students in codes (student -> answer code), with the `given` code as boilerplate."""
    raw = {s: _fingerprint(s, code) for s, code in codes.items()}
    stubs = set().union(*(_fingerprint("released", text).hashes for text in given if text.strip()))
    # Students who wrote code of their own: the typical pair is measured among them, not among blanks.
    writers = {s for s, fingerprint in raw.items() if fingerprint.hashes - stubs}
    prints = {s: _without(fingerprint, stubs | _common_hashes(raw)) for s, fingerprint in raw.items()}
    measured = []
    for a, b in itertools.combinations(sorted(prints), 2):
        if prints[a].hashes and prints[b].hashes:
            overlap, (share_a, share_b), _ = compare_files(prints[a], prints[b])
        else:  # nothing of their own: blank, or only the stubs and what everybody writes
            overlap, share_a, share_b = 0, 0.0, 0.0
        measured.append((a, b, round(float(max(share_a, share_b)), 3), int(overlap)))
    bar = threshold([m[2] for m in measured if m[0] in writers and m[1] in writers])
    return [
        Pair(assignment, a, b, sim, shared, sim >= bar and shared >= MIN_SHARED)
        for a, b, sim, shared in measured
    ]


def compare_class(found: list[collect.Submission]) -> list[Pair]:
    """Every pair of students per assignment, for the submissions that can be graded."""
    by_assignment: dict[str, dict[str, str]] = {}
    for sub in found:
        if sub.problem:
            continue
        by_assignment.setdefault(sub.assignment, {})[sub.student_id] = submission_code(sub)
    pairs = []
    for assignment, codes in sorted(by_assignment.items()):
        pairs += compare(assignment, codes, released_code(assignment))
    flagged = [p for p in pairs if p.flagged]
    if flagged:
        log.warning("%d pairs of submissions are unusually alike: see similarity.csv", len(flagged))
    return pairs


def write_csv(path: Path, pairs: list[Pair]) -> None:
    """similarity.csv: one row per pair, most alike first within each assignment."""
    rows = sorted(pairs, key=lambda p: (p.assignment, -p.similarity, p.student_a, p.student_b))
    report.write_rows(
        path,
        [COLUMNS]
        + [
            [
                p.assignment,
                p.student_a,
                p.student_b,
                report.number(p.similarity),
                "yes" if p.flagged else "no",
            ]
            for p in rows
        ],
    )
