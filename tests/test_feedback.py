"""Feedback keeps the assertion messages but never the hidden tests' source."""

from __future__ import annotations

import nbformat

from autograder.feedback import redact_hidden_tests


def test_hidden_tests_and_tracebacks_are_redacted() -> None:
    cell = nbformat.v4.new_code_cell(
        "assert f(1) == 1, 'visible'\n### BEGIN HIDDEN TESTS\nassert f(2) == 99, 'secret check'\n### END HIDDEN TESTS"
    )
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1}
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="f(2) returned 2, expected 99",
            traceback=[
                "\x1b[31m----> 3 assert f(2) == 99, 'secret check'",
                "AssertionError: f(2) returned 2",
            ],
        )
    ]
    solution = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nnot a test cell\n### END HIDDEN TESTS")
    nb = redact_hidden_tests(nbformat.v4.new_notebook(cells=[cell, solution]))
    text = nbformat.writes(nb)
    assert "secret check" not in text and "f(2) == 99" not in text
    assert "assert f(1) == 1, 'visible'" in nb.cells[0].source
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError: f(2) returned 2, expected 99"]
    assert nb.cells[1].source.startswith("### BEGIN HIDDEN TESTS"), "only graded cells are touched"
