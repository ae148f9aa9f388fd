"""Rebuild a submitted notebook on the released one, so nbgrader can grade what the student wrote.

Students' editors drop metadata, students copy, delete, move and edit cells, rename files and upload the
wrong notebook. nbgrader stops or grades nothing on several of these. Here the released notebook is the
skeleton: its locked and test cells are kept as released, each answer cell is filled with the student's
matching cell, and cells the student added stay where they were, after the cell they followed.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import course


@dataclass
class Repaired:
    """A notebook ready for nbgrader, or the reason there is none, and what was changed."""

    notebook: nbformat.NotebookNode | None
    problem: str = ""
    status: str = ""
    notes: list[str] = field(default_factory=list)


def _meta(cell) -> dict:
    """The cell's nbgrader metadata, or an empty dict."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook in path, or None and a sentence saying why it cannot be read."""
    raw = path.read_bytes()
    if not raw.strip():
        return None, f"{path.name} is empty (0 bytes): download the notebook again after saving it"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, f"{path.name} is not a notebook file (it is not JSON); upload the .ipynb file itself"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, f"{path.name} is JSON but not a Jupyter notebook"
    try:
        return nbformat.reads(json.dumps(data), as_version=4), ""
    except Exception as error:  # nbformat raises several types for malformed notebooks
        return None, f"{path.name} is a damaged notebook ({type(error).__name__})"


def _defined_name(source: str) -> str | None:
    """The first function a code cell defines, if any."""
    match = re.search(r"^def\s+([A-Za-z_]\w*)\s*\(", source, re.MULTILINE)
    return match.group(1) if match else None


def _keys(cell) -> set[str]:
    """Identifiers that tie a cell to a released cell: grade id, cell id, defined function."""
    keys = set()
    if _meta(cell).get("grade_id"):
        keys.add(f"grade:{_meta(cell)['grade_id']}")
    if cell.get("id"):
        keys.add(f"id:{cell['id']}")
    return keys


@functools.cache
def _released_grade_ids(assignment: str) -> frozenset[str]:
    """Every grade id in an assignment's released notebooks."""
    ids = set()
    for name in course.notebook_names(assignment):
        released = nbformat.read(course.RELEASE / assignment / name, as_version=4)
        ids |= {_meta(c)["grade_id"] for c in released.cells if _meta(c).get("grade_id")}
    return frozenset(ids)


def belongs_to(nb: nbformat.NotebookNode) -> dict[str, int]:
    """How many of each assignment's grade ids the notebook carries."""
    grade_ids = {_meta(c).get("grade_id") for c in nb.cells} - {None}
    own = {a: _released_grade_ids(a) for a in course.assignments()}
    # Ids such as "setup" appear in every assignment and say nothing about which one this is.
    shared = {g for a in own for b in own if a < b for g in own[a] & own[b]}
    return {a: len(grade_ids & (ids - shared)) for a, ids in own.items()}


def _match(released: nbformat.NotebookNode, student: nbformat.NotebookNode) -> dict[int, int]:
    """released cell index -> student cell index, each student cell used once."""
    matched: dict[int, int] = {}
    used: set[int] = set()
    passes = [
        lambda r, s: f"grade:{_meta(r).get('grade_id')}" in _keys(s) and bool(_meta(r).get("grade_id")),
        lambda r, s: r.get("id") and s.get("id") == r.get("id") and s.cell_type == r.cell_type,
        lambda r, s: (
            _meta(r).get("solution")
            and s.cell_type == "code"
            and _defined_name(r.source) is not None
            and _defined_name(s.source) == _defined_name(r.source)
        ),
        lambda r, s: s.cell_type == r.cell_type and s.source.strip() == r.source.strip(),
    ]
    for same in passes:
        for r_index, r_cell in enumerate(released.cells):
            if r_index in matched:
                continue
            for s_index, s_cell in enumerate(student.cells):
                if s_index not in used and same(r_cell, s_cell):
                    matched[r_index] = s_index
                    used.add(s_index)
                    break
    return matched


def _plain(cell) -> nbformat.NotebookNode:
    """A copy of a student's cell without nbgrader metadata, so nbgrader runs it as ordinary code."""
    if cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(cell.source)
    else:
        new = nbformat.v4.new_code_cell(cell.source)
    return new


def rebuild(
    released: nbformat.NotebookNode, student: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[str]]:
    """The released notebook with the student's answers, edits and extra cells put back in."""
    matched = _match(released, student)
    anchors = {s: r for r, s in matched.items()}
    extras_after: dict[int, list] = {}
    last_anchor = -1
    for s_index, cell in enumerate(student.cells):
        if s_index in anchors:
            last_anchor = anchors[s_index]
        elif cell.cell_type in ("code", "markdown") and cell.source.strip():
            extras_after.setdefault(last_anchor, []).append(_plain(cell))
    notes = []
    out = nbformat.v4.new_notebook(metadata=released.metadata)
    out.cells.extend(extras_after.get(-1, []))
    for r_index, r_cell in enumerate(released.cells):
        meta = _meta(r_cell)
        cell = nbformat.from_dict(json.loads(json.dumps(r_cell)))
        if r_index in matched and not meta.get("locked"):
            cell.source = student.cells[matched[r_index]].source
        elif r_index not in matched and meta.get("solution"):
            notes.append(f"the answer cell '{meta['grade_id']}' was missing, so it was graded as left blank")
        out.cells.append(cell)
        out.cells.extend(extras_after.get(r_index, []))
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out, notes


def _changed(released: nbformat.NotebookNode, student: nbformat.NotebookNode) -> list[str]:
    """What the student did to graded cells, in words (for the summary)."""
    released_tests = [_meta(c)["grade_id"] for c in released.cells if _meta(c).get("grade")]
    student_ids = [_meta(c).get("grade_id") for c in student.cells if _meta(c).get("grade_id")]
    notes = []
    if not student_ids:
        notes.append(
            "the notebook had lost nbgrader's cell metadata (another editor?); cells were matched by content"
        )
    duplicated = sorted({g for g in student_ids if student_ids.count(g) > 1})
    if duplicated:
        notes.append(f"copies of cells {', '.join(duplicated)} were run as ordinary code")
    deleted = [g for g in released_tests if student_ids and g not in student_ids]
    if deleted:
        notes.append(f"deleted test cells {', '.join(deleted)} were put back")
    points = {_meta(c)["grade_id"]: _meta(c).get("points") for c in released.cells if _meta(c).get("grade")}
    if any(
        _meta(c).get("grade") and _meta(c).get("points") != points.get(_meta(c).get("grade_id"))
        for c in student.cells
    ):
        notes.append("changed points were reset to the assignment's")
    return notes


def repair(assignment: str, files: list[Path]) -> dict[str, Repaired]:
    """Released notebook name -> the rebuilt notebook (or why it could not be built) for one submission."""
    expected = course.notebook_names(assignment)
    readable: dict[str, nbformat.NotebookNode] = {}
    problems: dict[str, str] = {}
    for path in files:
        nb, problem = read_notebook(path)
        if nb is None:
            problems[path.name] = problem
        else:
            readable[path.name] = nb
    results: dict[str, Repaired] = {}
    for name in expected:
        notes: list[str] = []
        nb = readable.pop(name, None)
        if nb is None and name in problems:
            results[name] = Repaired(None, problems.pop(name), "unreadable")
            continue
        if nb is None:
            others = sorted(readable, key=lambda n: -belongs_to(readable[n]).get(assignment, 0))
            if others:
                nb = readable.pop(others[0])
                notes.append(f"{others[0]} was graded as {name} (please keep the original file name)")
            elif problems:
                other, problem = problems.popitem()
                results[name] = Repaired(None, problem, "unreadable")
                continue
            else:
                results[name] = Repaired(None, f"{name} is missing from the submission", "missing")
                continue
        counts = belongs_to(nb)
        best = max(counts, key=counts.get) if counts else assignment
        if counts.get(best, 0) > 0 and counts.get(assignment, 0) == 0:
            message = f"this is the notebook of assignment {best}, not of {assignment}"
            results[name] = Repaired(None, message, "wrong-assignment")
            continue
        released = nbformat.read(course.RELEASE / assignment / name, as_version=4)
        notes += _changed(released, nb)
        rebuilt, more = rebuild(released, nb)
        results[name] = Repaired(rebuilt, notes=notes + more)
    return results
