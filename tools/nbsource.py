"""Convert nbgrader source notebooks to and from a plain-text form that is easy to edit and review.

The text form is a sequence of cells, each introduced by a header line:

    %% md                          markdown, editable by students
    %% md locked id=intro          markdown, locked (nbgrader restores it when grading)
    %% code                        ordinary code cell (ungraded, editable)
    %% code locked id=setup        read-only code cell
    %% solution id=relu            student answer cell (### BEGIN/END SOLUTION inside)
    %% tests id=test_relu points=2 autograded test cell (### BEGIN/END HIDDEN TESTS inside)

Usage:
    python tools/nbsource.py to-text solutions/02_relu_family/02_relu_family.ipynb > /tmp/02.txt
    python tools/nbsource.py to-ipynb /tmp/02.txt solutions/02_relu_family/02_relu_family.ipynb
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

HEADER = re.compile(r"^%% (md|code|solution|tests)((?: [a-z]+(?:=[A-Za-z0-9_.-]+)?)*)\s*$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Split a header line into its kind and its key=value options."""
    match = HEADER.match(line)
    if not match:
        raise ValueError(f"not a cell header: {line!r}")
    options: dict[str, str] = {}
    for word in match.group(2).split():
        key, _, value = word.partition("=")
        options[key] = value or "true"
    return match.group(1), options


def _nbgrader_meta(kind: str, options: dict[str, str]) -> dict | None:
    """The nbgrader cell metadata for a header, or None for a plain cell."""
    locked = options.get("locked") == "true"
    if kind in ("md", "code") and not locked:
        return None
    grade_id = options.get("id")
    if not grade_id:
        raise ValueError(f"a {kind} cell that nbgrader tracks needs id=...")
    meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False}
    if kind == "solution":
        meta.update(locked=False, solution=True)
    elif kind == "tests":
        meta.update(grade=True, points=int(options["points"]))
    return meta


def text_to_notebook(text: str) -> nbformat.NotebookNode:
    """Build a notebook from the text form."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("%% "):
            blocks.append((line, []))
        elif blocks:
            blocks[-1][1].append(line)
        elif line.strip():
            raise ValueError("text before the first cell header")
    for index, (header, lines) in enumerate(blocks):
        kind, options = _parse_header(header)
        source = "\n".join(lines).strip("\n")
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        meta = _nbgrader_meta(kind, options)
        if meta:
            cell.metadata["nbgrader"] = meta
        cell.id = options.get("id", f"cell-{index:03d}")
        nb.cells.append(cell)
    ids = [cell.id for cell in nb.cells]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate ids: {duplicates}")
    return nb


def notebook_to_text(nb: nbformat.NotebookNode) -> str:
    """Write a notebook in the text form."""
    parts = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            header = f"%% tests id={meta['grade_id']} points={meta['points']:g}"
        elif meta.get("solution"):
            header = f"%% solution id={meta['grade_id']}"
        else:
            kind = "md" if cell.cell_type == "markdown" else "code"
            header = f"%% {kind} locked id={meta['grade_id']}" if meta.get("locked") else f"%% {kind}"
        parts.append(f"{header}\n{cell.source}\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    """Command line: to-text NOTEBOOK | to-ipynb TEXT NOTEBOOK."""
    if len(argv) == 2 and argv[0] == "to-text":
        sys.stdout.write(notebook_to_text(nbformat.read(argv[1], as_version=4)))
        return 0
    if len(argv) == 3 and argv[0] == "to-ipynb":
        nb = text_to_notebook(Path(argv[1]).read_text())
        nbformat.validate(nb)
        Path(argv[2]).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
