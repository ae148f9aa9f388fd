"""Copies are flagged and independent work is not (autograder.similarity), on answer code held in memory.

The independent students are assembled from the graders' tests: for each graded function, the correct
implementations in other styles that tests/test_graders_<assignment>.py keeps (CASES[...].right); student k
writes the k-th style of every function, and the reference solution is one more student. The copy takes one
student's answers and disguises them: other variable names, its own comments and blank lines, the
functions in the opposite order.
"""

from __future__ import annotations

import csv
import inspect
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
import test_graders_02_relu_family
import test_graders_03_derivatives
from graders_common import labelled
from student_copy import answer_cells, finished, released

from autograder import collect, similarity

CORPORA = {
    "02_relu_family": test_graders_02_relu_family.CASES,
    "03_derivatives": test_graders_03_derivatives.CASES,
}
INDEPENDENT = 4  # students who write their own; most graded functions of 02 and 03 have this many styles


def _styles(cases) -> dict[str, list[str]]:
    """Graded function -> the source of each of its correct implementations, renamed to the function."""
    styles = {}
    for name, case in cases.items():
        sources = []
        for _, impl in labelled(case.right):
            if "<locals>" in getattr(impl, "__qualname__", "<locals>"):
                continue  # made by a helper (a wrapper or a loop around a scalar formula): not a student's text
            source = textwrap.dedent(inspect.getsource(impl))
            defined = re.match(r"def (\w+)\(", source)
            if defined:
                sources.append(source.replace(f"def {defined[1]}(", f"def {name}(", 1))
        styles[name] = sources
    return styles


def independent_class(assignment: str) -> dict[str, str]:
    """Student -> answer code: INDEPENDENT students writing different styles, and the reference solution.

    Where a function has fewer styles than students, the students beyond them left it unanswered.
    """
    styles = _styles(CORPORA[assignment])
    assert sum(len(s) >= INDEPENDENT for s in styles.values()) >= len(styles) - 2, styles.keys()
    codes = {f"s{k}": "\n\n".join(s[k] for s in styles.values() if k < len(s)) for k in range(INDEPENDENT)}
    codes["ref"] = "\n\n".join(answer_cells(assignment).values())
    return codes


def disguise(code: str) -> str:
    """The same code with other names, other comments and blank lines, and its functions reordered."""
    renamed = re.sub(r"\bx\b", "values", code)
    renamed = re.sub(r"\balpha\b", "slope", renamed)
    renamed = re.sub(r"\beps\b", "step", renamed)
    renamed = re.sub(r"#.*", "", renamed)  # their comments go ...
    functions = [f for f in re.split(r"\n(?=def )", renamed) if f.strip()]
    commented = [f"# my answer, written after the lecture\n\n{f.rstrip()}\n\n\n" for f in functions]
    return "".join(reversed(commented))  # ... and others come, between functions in the other order


@pytest.mark.parametrize("assignment", sorted(CORPORA))
def test_a_disguised_copy_is_flagged_and_no_one_else(assignment: str) -> None:
    codes = independent_class(assignment)
    codes["copy"] = disguise(codes["s1"])
    assert codes["copy"] != codes["s1"] and "values" in codes["copy"]
    pairs = similarity.compare(assignment, codes, similarity.released_code(assignment))
    assert len(pairs) == len(codes) * (len(codes) - 1) // 2
    flagged = [(p.student_a, p.student_b) for p in pairs if p.flagged]
    assert flagged == [("copy", "s1")], sorted(pairs, key=lambda p: -p.similarity)[:3]
    copy_pair = next(p for p in pairs if p.flagged)
    assert copy_pair.similarity >= 0.8 and copy_pair.shared >= similarity.MIN_SHARED


@pytest.mark.parametrize("assignment", sorted(CORPORA))
def test_independently_written_solutions_are_not_flagged(assignment: str) -> None:
    pairs = similarity.compare(
        assignment, independent_class(assignment), similarity.released_code(assignment)
    )
    assert not [p for p in pairs if p.flagged], sorted(pairs, key=lambda p: -p.similarity)[:3]
    assert max(p.similarity for p in pairs) < 0.8


def test_short_answers_that_everybody_writes_alike_flag_no_one() -> None:
    """Four students write the obvious one-liners, two of them identically: too little to tell."""
    obvious = "def relu(x):\n    return np.maximum(x, 0)\n"
    codes = {
        "ann": obvious,
        "bob": obvious.replace("x", "z"),
        "cy": "def relu(x):\n    return np.where(x > 0, x, 0)\n",
        "dee": "def relu(x):\n    return x * (x > 0)\n",
    }
    pairs = similarity.compare("02_relu_family", codes, similarity.released_code("02_relu_family"))
    assert not any(p.flagged for p in pairs)
    assert all(p.shared < similarity.MIN_SHARED for p in pairs)


def test_a_class_that_all_hands_in_the_same_code_flags_no_one() -> None:
    """What everybody writes is boilerplate: five copies of the reference are not five suspects."""
    reference = "\n\n".join(answer_cells("03_derivatives").values())
    codes = {f"s{k}": reference for k in range(5)}
    pairs = similarity.compare("03_derivatives", codes, similarity.released_code("03_derivatives"))
    assert not any(p.flagged for p in pairs) and {p.similarity for p in pairs} == {0.0}


def test_the_released_stubs_are_boilerplate() -> None:
    """Blank notebooks are as alike as can be, and share nothing of their own."""
    stub = similarity.answer_code(released("02_relu_family"))
    assert "NotImplementedError" in stub
    pairs = similarity.compare("02_relu_family", {"a": stub, "b": stub, "c": stub})
    assert {p.similarity for p in pairs} == {0.0}  # three alike: what everybody writes
    pairs = similarity.compare(
        "02_relu_family", {"a": stub, "b": stub}, similarity.released_code("02_relu_family")
    )
    assert pairs[0].similarity == 0.0 and pairs[0].shared == 0


def test_fewer_than_three_students_flag_no_one() -> None:
    codes = independent_class("02_relu_family")
    pairs = similarity.compare("02_relu_family", {"a": codes["s1"], "b": disguise(codes["s1"])})
    assert pairs[0].similarity > 0.8 and not pairs[0].flagged


def test_the_same_input_gives_the_same_pairs() -> None:
    """Deterministic: every fingerprint is kept (no winnowing window depends on Python's hash seed)."""
    codes = independent_class("02_relu_family")
    codes["copy"] = disguise(codes["s2"])
    given = similarity.released_code("02_relu_family")
    assert similarity.compare("02_relu_family", codes, given) == similarity.compare(
        "02_relu_family", codes, given
    )


def test_the_class_is_read_from_the_submissions_and_written_as_csv(tmp_path: Path) -> None:
    """compare_class reads each submission as graded (rebuilt on the released notebook) and skips problems."""
    assignment = "02_relu_family"
    notebook = f"{assignment}.ipynb"
    codes = independent_class(assignment)
    for student, code in [
        ("s0", codes["s0"]),
        ("s1", codes["s1"]),
        ("s2", codes["s2"]),
        ("copy", disguise(codes["s1"])),
    ]:
        nb = finished(assignment)
        # All the student's functions in the first answer cell, the others emptied: still answer code.
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        answers[0].source = code
        for cell in answers[1:]:
            cell.source = ""
        (tmp_path / "subs" / student / assignment).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "subs" / student / assignment / notebook)
    (tmp_path / "subs" / "lost" / "99_nothing").mkdir(parents=True)  # not an assignment: skipped
    pairs = similarity.compare_class(collect.collect(tmp_path / "subs"))
    assert {(p.student_a, p.student_b) for p in pairs if p.flagged} == {("copy", "s1")}
    similarity.write_csv(tmp_path / "similarity.csv", pairs)
    rows = list(csv.DictReader((tmp_path / "similarity.csv").open(encoding="utf-8")))
    assert (
        list(rows[0])
        == similarity.COLUMNS
        == ["assignment", "student_a", "student_b", "similarity", "flagged"]
    )
    assert len(rows) == 6 and rows[0]["flagged"] == "yes" and {r["flagged"] for r in rows[1:]} == {"no"}
    assert (rows[0]["student_a"], rows[0]["student_b"]) == ("copy", "s1")
    assert all(0 <= float(r["similarity"]) <= 1 for r in rows)
