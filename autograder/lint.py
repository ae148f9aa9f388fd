"""Static checks on the nbgrader source notebooks, run by the tests before anything executes."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

from autograder import judging

TF_IMPORT = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.MULTILINE)
TRAINING = re.compile(r"\.(fit|train_on_batch|fit_generator)\s*\(")
STDERR_WRITERS = re.compile(
    r"input_shape\s*=|input_dim\s*=|warnings\.warn|sys\.stderr|file\s*=\s*sys\.stderr"
)
TF_ALLOWED = "# lint: tensorflow-ok"
# "Six functions are graded (9 points)": what an intro promises must be what the graded cells hold.
GRADED_CLAIM = re.compile(r"\b(\w+) functions? (?:is|are) graded \((\d+) points?\)", re.IGNORECASE)
# "### Exercise 2 (3 points): follow the signal": every exercise heading says what it is worth.
EXERCISE_HEADING = re.compile(r"^#{2,4} Exercise\b.*$", re.MULTILINE)
HEADING_POINTS = re.compile(r"\((\d+(?:\.\d+)?) points?\)")
NUMBER_WORDS = {
    w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}


# The judge's checks return None, so a cell may end with one: nothing is displayed, nothing read as a score.
JUDGE_CHECKS = {"elementwise", "points", "large", "between", "kinks", "formula"}


def _is_judge_check(node: ast.expr) -> bool:
    """True for a call such as _judge.formula(...) or harness.Judge.receive(...).kinks(...)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in JUDGE_CHECKS
        and (
            ast.unparse(node.func.value) == "_judge"
            or ast.unparse(node.func.value).startswith("harness.Judge")
        )
    )


def _ends_with_expression(source: str) -> bool:
    """True when the cell's last statement is a bare expression (nbgrader reads its value as partial credit)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or source.rstrip().endswith(";"):
        return False
    return not _is_judge_check(tree.body[-1].value)


def _probe_and_judge_problems(where: str, source: str) -> list[str]:
    """The hidden tests must come as fixtures, probe and judge (autograder.judging, rectified.harness)."""
    try:
        test = judging.split(source)
    except ValueError as error:
        return [f"{where}: {error}"]
    problems = []
    for part, text in (("fixtures", test.fixtures), ("judge", test.judge)):
        if TF_IMPORT.search(text):
            problems.append(f"{where}: the {part} import TensorFlow (they run in the grader's process)")
    if "harness.Probe(" not in test.probe:
        problems.append(f"{where}: the probe does not use harness.Probe")
    if "Judge.receive(" not in test.judge:
        problems.append(f"{where}: the judge does not read the report with harness.Judge.receive")
    if re.search(r"^\s*def _ref|Judge\.", test.probe + test.fixtures, re.MULTILINE):
        problems.append(
            f"{where}: a reference or the judge in the fixtures or probe (the kernel would see it)"
        )
    return problems


def lint_notebook(path: Path) -> list[str]:
    """Problems found in one source notebook, each a sentence naming the cell."""
    nb = nbformat.read(path, as_version=4)
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.get("outputs") or cell.get("execution_count"):
            problems.append(f"{path}: cell {index} has outputs; commit solutions without outputs")
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        where = f"{path}: cell {grade_id!r}"
        if grade_id in seen:
            problems.append(f"{where}: duplicate grade_id (cells {seen[grade_id]} and {index})")
        seen[grade_id] = index
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: schema_version is not 3")
        if meta.get("solution") and cell.cell_type == "code" and "### BEGIN SOLUTION" not in cell.source:
            problems.append(
                f"{where}: solution cell without ### BEGIN SOLUTION (the whole cell becomes the stub)"
            )
        if not (meta.get("grade") and cell.cell_type == "code"):
            continue
        if not meta.get("points"):
            problems.append(f"{where}: graded cell without points")
        try:
            if _ends_with_expression(cell.source):
                problems.append(f"{where}: test cell ends with a bare expression (read as partial credit)")
        except SyntaxError as error:
            problems.append(f"{where}: syntax error in test cell: {error}")
        if TF_ALLOWED not in cell.source and (TF_IMPORT.search(cell.source) or TRAINING.search(cell.source)):
            problems.append(f"{where}: TensorFlow import or training in a test cell")
        if STDERR_WRITERS.search(cell.source):
            problems.append(f"{where}: test cell may write to stderr (nbgrader then gives it 0)")
        if "### BEGIN HIDDEN TESTS" not in cell.source:
            problems.append(f"{where}: test cell without hidden tests")
        else:
            problems += _probe_and_judge_problems(where, cell.source)
        if cell.source.lstrip().startswith("### BEGIN HIDDEN TESTS"):
            problems.append(f"{where}: test cell without a visible part")
    return problems + _claimed_points_problems(path, nb) + _heading_points_problems(path, nb)


def _heading_points_problems(path: Path, nb: nbformat.NotebookNode) -> list[str]:
    """Each exercise heading states its points, e.g. "(3 points)", and together they are the graded cells' points."""
    points = sum(
        c.metadata.nbgrader.get("points", 0) for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
    )
    headings = [h for c in nb.cells if c.cell_type == "markdown" for h in EXERCISE_HEADING.findall(c.source)]
    problems = [
        f"{path}: the heading {h!r} does not state its points"
        for h in headings
        if not HEADING_POINTS.search(h)
    ]
    stated = sum(float(m[1]) for h in headings if (m := HEADING_POINTS.search(h)))
    if headings and not problems and stated != points:
        problems.append(
            f"{path}: the exercise headings add up to {stated:g} points, the graded cells to {points:g}"
        )
    if points and not headings:
        problems.append(f"{path}: graded cells but no '### Exercise N (P points)' heading")
    return problems


def _claimed_points_problems(path: Path, nb: nbformat.NotebookNode) -> list[str]:
    """A sentence such as "Six functions are graded (9 points)" must count the graded cells and their points."""
    graded = [c.metadata.nbgrader for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    cells, points = len(graded), sum(meta.get("points", 0) for meta in graded)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for claim in GRADED_CLAIM.finditer(cell.source):
            count = claim[1].lower()
            said = NUMBER_WORDS.get(count, int(count) if count.isdigit() else None)
            if said != cells or int(claim[2]) != points:
                problems.append(
                    f"{path}: the text says {claim[0]!r}, but {cells} cells are graded, {points:g} points in all"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Lint the given notebooks, or every solutions/*/*.ipynb."""
    paths = [Path(p) for p in argv or []] or sorted(Path("solutions").glob("*/*.ipynb"))
    problems = [problem for path in paths for problem in lint_notebook(path)]
    print("\n".join(problems) or f"{len(paths)} notebooks OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
