"""report.html: what the class got right and wrong, on one page that opens offline and can be mailed.

    write(out / "report.html", results, pairs)   # results: every summary row; pairs: similarity.compare_class

Per assignment: the score distribution; each test cell's failure rate (a chart, and a table naming the cell
ids); the most common failure messages of each test cell, grouped, with how many students got each; the
statuses other than `graded` and who has them; the grading time of each submission; the students with the
lowest scores; and the pairs of students whose answer code is unusually alike. Figures are drawn with
matplotlib (agg) and embedded as base64 PNG; there is no script, stylesheet or font from elsewhere. Every
text that a student controls (ids, names, messages) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("agg")  # no display; set before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402

from autograder import course, report, similarity  # noqa: E402

LOWEST = 10  # students listed as the lowest scores
MESSAGES_PER_CELL = 3  # failure messages listed per test cell
SLOWEST = 10  # submissions listed by grading time
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")
FLAG_WARNING = (
    "A flag is a reason to look, not a verdict: read both notebooks before concluding anything. Students "
    "can write alike for good reasons (a shared study group, the lecture's code, a short exercise)."
)

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.figure { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.note { color: #555; font-size: 0.92em; } .flag { background: #fde8e8; }
code { background: #f5f5f5; padding: 0 0.2em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _png(figure) -> str:
    """An <img> holding the figure as base64 PNG, and the figure closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="" src="data:image/png;base64,{data}">'


def _table(
    header: list[str], rows: list[list[object]], numeric: set[int] = frozenset(), css: str = ""
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><tr>{head}</tr>{''.join(body)}</table>"


def _cell_ids(results: list[report.Result]) -> list[tuple[str, str, float]]:
    """(notebook, cell id, points) of every test cell the results have, in notebook order of first sight."""
    seen: dict[tuple[str, str], float] = {}
    for r in results:
        for c in r.cells:
            seen.setdefault((c.notebook, c.cell_id), c.max_score)
    return [(nb, cell, points) for (nb, cell), points in seen.items()]


def _score_section(results: list[report.Result]) -> str:
    scores = [r.score for r in results]
    top = max((r.max_score for r in results), default=0.0)
    figure, axes = plt.subplots(figsize=(5.5, 3))
    bins = min(20, max(5, int(top) + 1)) if top else 5
    axes.hist(scores, bins=bins, range=(0, top or 1), color="#4878a8", edgecolor="white")
    axes.set(title="Score distribution", xlabel=f"score (out of {report.number(top)})", ylabel="students")
    stats = [
        ["students", len(scores)],
        ["mean", f"{statistics.fmean(scores):.2f}" if scores else "–"],
        ["median", report.number(statistics.median(scores)) if scores else "–"],
        ["lowest", report.number(min(scores)) if scores else "–"],
        ["highest", report.number(max(scores)) if scores else "–"],
        ["full marks", sum(1 for r in results if top and r.score >= top)],
    ]
    return f'<h3>Scores</h3><div class="figure">{_png(figure)}{_table(["", "value"], stats, {1})}</div>'


def _failure_rows(results: list[report.Result]) -> list[tuple[str, float, int, int, float]]:
    """(cell id, points, failed, students, mean score) per test cell."""
    rows = []
    for notebook, cell_id, points in _cell_ids(results):
        cells = [c for r in results for c in r.cells if (c.notebook, c.cell_id) == (notebook, cell_id)]
        failed = sum(1 for c in cells if c.score < c.max_score)
        mean = statistics.fmean(c.score for c in cells) if cells else 0.0
        rows.append((cell_id, points, failed, len(cells), mean))
    return rows


def _failure_section(results: list[report.Result]) -> str:
    rows = _failure_rows(results)
    if not rows:
        return "<h3>Test cells</h3><p>No test cell was scored.</p>"
    figure, axes = plt.subplots(figsize=(6, 0.35 * len(rows) + 1.2))
    labels = [row[0] for row in rows][::-1]
    rates = [100 * row[2] / row[3] if row[3] else 0 for row in rows][::-1]
    axes.barh(labels, rates, color="#c8553d")
    axes.set(title="Failure rate per test cell", xlabel="students who lost points (%)", xlim=(0, 100))
    table = _table(
        ["test cell", "points", "failed", "of", "failure rate", "mean score"],
        [
            [
                cell,
                report.number(points),
                failed,
                total,
                f"{100 * failed / total:.0f}%" if total else "–",
                f"{mean:.2f}",
            ]
            for cell, points, failed, total, mean in rows
        ],
        {1, 2, 3, 4, 5},
    )
    return f'<h3>Test cells</h3><div class="figure">{_png(figure)}{table}</div>'


def _shape(message: str) -> str:
    """A message with its numbers blanked, so that the same mistake with other values groups together."""
    return NUMBER.sub("#", message.strip())


def _message_section(results: list[report.Result]) -> str:
    grouped: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        for c in r.cells:
            if c.score < c.max_score:
                text = c.message or "(no message was saved for this cell)"
                grouped[c.cell_id][_shape(text)].append((r.student_id, text))
    if not grouped:
        return "<h3>Most common failures</h3><p>No test cell lost points.</p>"
    parts = ["<h3>Most common failures</h3>"]
    order = [cell for _, cell, _ in _cell_ids(results) if cell in grouped]
    for cell in order:
        groups = sorted(grouped[cell].values(), key=lambda g: (-len(g), g[0][1]))
        rows = []
        for group in groups[:MESSAGES_PER_CELL]:
            example = Counter(text for _, text in group).most_common(1)[0][0]
            rows.append([len(group), example, ", ".join(sorted({s for s, _ in group}))])
        more = len(groups) - MESSAGES_PER_CELL
        parts.append(f"<h4><code>{_e(cell)}</code></h4>")
        parts.append(_table(["students", "message (an example of the group)", "who"], rows, {0}))
        if more > 0:
            parts.append(f'<p class="note">and {more} other messages</p>')
    return "".join(parts)


def _status_section(results: list[report.Result]) -> str:
    statuses: dict[str, list[str]] = defaultdict(list)
    for r in results:
        statuses[r.status].append(r.student_id)
    rows = [
        [status, len(who), ", ".join(sorted(who)) if status != "graded" else "(everyone else)"]
        for status, who in sorted(statuses.items(), key=lambda item: (item[0] != "graded", item[0]))
    ]
    return "<h3>Statuses</h3>" + _table(["status", "submissions", "students"], rows, {1})


def _time_section(results: list[report.Result]) -> str:
    timed = sorted((r for r in results if r.seconds > 0), key=lambda r: (-r.seconds, r.student_id))
    if not timed:
        return "<h3>Grading time</h3><p>No submission was timed (none was run, or they were graded by an older version).</p>"
    figure, axes = plt.subplots(figsize=(5.5, 3))
    axes.hist(
        [r.seconds for r in timed], bins=min(20, max(5, len(timed))), color="#6a9f58", edgecolor="white"
    )
    axes.set(title="Grading time per submission", xlabel="seconds", ylabel="submissions")
    seconds = [r.seconds for r in timed]
    stats = [
        ["submissions timed", len(seconds)],
        ["median", f"{statistics.median(seconds):.1f} s"],
        ["slowest", f"{max(seconds):.1f} s"],
        ["total", f"{sum(seconds):.0f} s"],
    ]
    slowest = _table(
        ["student", "seconds", "status"],
        [[r.student_id, f"{r.seconds:.1f}", r.status] for r in timed[:SLOWEST]],
        {1},
    )
    return (
        f'<h3>Grading time</h3><div class="figure">{_png(figure)}{_table(["", "value"], stats, {1})}'
        f"<div><p>The slowest {min(SLOWEST, len(timed))}:</p>{slowest}</div></div>"
    )


def _lowest_section(results: list[report.Result]) -> str:
    lowest = sorted(results, key=lambda r: (r.score, r.student_id))[:LOWEST]
    rows = [
        [r.student_id, f"{report.number(r.score)}/{report.number(r.max_score)}", r.status, r.message[:300]]
        for r in lowest
    ]
    return f"<h3>Lowest scores</h3>{_table(['student', 'score', 'status', 'why (the summary message)'], rows, {1})}"


def _similarity_section(pairs: list[similarity.Pair]) -> str:
    parts = ["<h3>Similar answer code</h3>", f"<p><strong>{_e(FLAG_WARNING)}</strong></p>"]
    if not pairs:
        return "".join(parts) + "<p>Fewer than two students' answer code to compare.</p>"
    figure, axes = plt.subplots(figsize=(5.5, 3))
    axes.hist([p.similarity for p in pairs], bins=20, range=(0, 1), color="#8c6bb1", edgecolor="white")
    flagged = [p for p in pairs if p.flagged]
    for p in flagged:
        axes.axvline(p.similarity, color="#c8553d", linestyle="--", linewidth=1)
    axes.set(title="Similarity of every pair of students", xlabel="similarity (0 to 1)", ylabel="pairs")
    typical = statistics.median(p.similarity for p in pairs)
    stats = [
        ["pairs compared", len(pairs)],
        ["median similarity", f"{typical:.2f}"],
        ["flagged", len(flagged)],
    ]
    parts.append(f'<div class="figure">{_png(figure)}{_table(["", "value"], stats, {1})}</div>')
    top = sorted(pairs, key=lambda p: (not p.flagged, -p.similarity, p.student_a, p.student_b))[:LOWEST]
    rows = [
        [p.student_a, p.student_b, f"{p.similarity:.2f}", p.shared, "yes" if p.flagged else "no"] for p in top
    ]
    parts.append(
        _table(["student", "student", "similarity", "shared code (tokens)", "flagged"], rows, {2, 3})
    )
    parts.append(
        '<p class="note">Answer cells only; the released notebook\'s code and passages that many students '
        "wrote alike are left out. Flagged: far above this assignment's typical pair, and enough shared code "
        "to tell. Every pair is in similarity.csv.</p>"
    )
    return "".join(parts)


def assignment_section(assignment: str, results: list[report.Result], pairs: list[similarity.Pair]) -> str:
    """The part of the page about one assignment."""
    return (
        f'<section id="{_e(assignment)}"><h2>{_e(assignment)}</h2>'
        + _score_section(results)
        + _failure_section(results)
        + _message_section(results)
        + _status_section(results)
        + _time_section(results)
        + _lowest_section(results)
        + _similarity_section(pairs)
        + "</section>"
    )


def render(results: list[report.Result], pairs: list[similarity.Pair]) -> str:
    """The whole page."""
    by_assignment: dict[str, list[report.Result]] = defaultdict(list)
    for r in results:
        by_assignment[r.assignment].append(r)
    known = course.assignments()
    order = sorted(by_assignment, key=lambda a: (a not in known, known.index(a) if a in known else 0, a))
    overview = _table(
        ["assignment", "submissions", "mean score", "out of", "not graded", "flagged pairs"],
        [
            [
                a or "(no assignment)",
                len(rs),
                f"{statistics.fmean(r.score for r in rs):.2f}",
                report.number(max(r.max_score for r in rs)),
                sum(1 for r in rs if r.status != "graded"),
                sum(1 for p in pairs if p.assignment == a and p.flagged),
            ]
            for a, rs in ((a, by_assignment[a]) for a in order)
        ],
        {1, 2, 3, 4, 5},
    )
    links = " · ".join(f'<a href="#{_e(a)}">{_e(a or "(no assignment)")}</a>' for a in order)
    sections = "".join(
        assignment_section(a, by_assignment[a], [p for p in pairs if p.assignment == a]) for a in order
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Grading report</title><style>{STYLE}</style></head><body>"
        "<h1>Grading report</h1>"
        f'<p class="note">{len(results)} submissions of {len({r.student_id for r in results})} students. '
        "The numbers come from summary.csv and grades.csv; every pair compared is in similarity.csv.</p>"
        f"{overview}<p>{links}</p>{sections}</body></html>\n"
    )


def write(path: Path, results: list[report.Result], pairs: list[similarity.Pair]) -> None:
    """Write report.html atomically."""
    with report.atomic_text(path) as handle:
        handle.write(render(results, pairs))
