"""GitHub Classroom: the workflow template's grading step, run here as Actions would run it.

The step is read from classroom/.github/workflows/classroom.yml and run with bash the way GitHub runs a
`run:` step (bash -e -o pipefail), in a workspace laid out like the job's: the student's repository in
submission/, the course in course/. The result it writes to $GITHUB_OUTPUT is decoded as the grading
reporter (classroom-resources/autograding-grading-reporter) decodes it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder import classroom, course, report

WORKFLOW = course.REPO / "classroom" / ".github" / "workflows" / "classroom.yml"
FIRST = "01_activations"
NB = f"{FIRST}.ipynb"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps() -> list[dict]:
    return _workflow()["jobs"]["run-autograding-tests"]["steps"]


def _grading_step() -> dict:
    (step,) = [s for s in _steps() if s.get("id") == "rectified"]
    return step


def _points() -> float:
    """The points of the assignment's test cells, read from the source notebook."""
    nb = nbformat.read(course.SOLUTIONS / FIRST / NB, as_version=4)
    return sum(
        float(c.metadata["nbgrader"]["points"])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )


def _run_step(tmp: Path, notebook: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the workflow's grading step on a student repository holding one notebook."""
    workspace = tmp / "workspace"
    repo = workspace / "submission" / "notebooks" / FIRST
    repo.mkdir(parents=True)
    shutil.copy2(notebook, repo / NB)
    (workspace / "course").symlink_to(course.REPO)
    step = _grading_step()
    output = tmp / "github_output"
    env = {
        **course.nbgrader_env(),
        **{k: str(v) for k, v in step.get("env", {}).items()},
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp / "runner"),
        "GITHUB_OUTPUT": str(output),
        "ASSIGNMENTS": FIRST,  # what an instructor sets for a repository of one assignment
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    run = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=workspace / step["working-directory"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = (
        [line for line in output.read_text().splitlines() if line.startswith("result=")]
        if output.exists()
        else []
    )
    assert len(lines) == 1, (lines, run.stdout[-2000:], run.stderr[-3000:])
    return run, json.loads(base64.b64decode(lines[0].removeprefix("result=")))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory):
    return _run_step(tmp_path_factory.mktemp("solved"), course.SOLUTIONS / FIRST / NB)


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory):
    return _run_step(tmp_path_factory.mktemp("blank"), course.RELEASE / FIRST / NB)


def test_a_solution_gets_full_points(solved) -> None:
    run, result = solved
    assert run.returncode == 0, run.stderr[-3000:]
    assert result["version"] == 1 and result["status"] == "pass", result
    assert result["max_score"] == _points() > 0
    assert sum(t["score"] for t in result["tests"]) == result["max_score"]
    assert all(t["status"] == "pass" and t["name"].startswith(f"{FIRST} ") for t in result["tests"]), result
    assert f"Points {report.number(_points())}/{report.number(_points())}" in run.stdout


def test_a_blank_notebook_gets_zero(blank) -> None:
    run, result = blank
    assert run.returncode == 0, run.stderr[-3000:]  # graded with points missing: the step still succeeds
    assert result["status"] == "fail" and result["max_score"] == _points(), result
    assert all(t["status"] == "fail" and t["score"] == 0 for t in result["tests"]), result
    assert all(t["filename"] == f"notebooks/{FIRST}/{NB}" for t in result["tests"])
    assert f"Points 0/{report.number(_points())}" in run.stdout


def test_the_reporter_is_given_the_grading_step_s_result() -> None:
    workflow = _workflow()
    assert workflow["name"] == "Autograding Tests"
    assert {"checks": "write", "actions": "read", "contents": "read"}.items() <= workflow[
        "permissions"
    ].items()
    (reporter,) = [
        s
        for s in _steps()
        if str(s.get("uses", "")).startswith("classroom-resources/autograding-grading-reporter@")
    ]
    for runner in reporter["with"]["runners"].split(","):
        # The reporter reads process.env[`${runner.toUpperCase()}_RESULTS`] and base64-decodes it.
        assert (
            reporter["env"][f"{runner.strip().upper()}_RESULTS"]
            == f"${{{{ steps.{runner.strip()}.outputs.result }}}}"
        )
    assert _grading_step()["id"] in reporter["with"]["runners"].split(",")


def test_a_repository_without_notebooks_cannot_be_graded(tmp_path: Path) -> None:
    output = tmp_path / "out.txt"
    run = subprocess.run(
        [sys.executable, "-m", "autograder.classroom", str(tmp_path), "--out", str(tmp_path / "out")],
        cwd=course.REPO,
        env={**course.nbgrader_env(), "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == classroom.FAILED, run.stderr[-2000:]
    result = json.loads(base64.b64decode(output.read_text().strip().removeprefix("result=")))
    assert (
        result["status"] == "error" and "notebooks/<assignment>/<name>.ipynb" in result["tests"][0]["message"]
    )


def test_results_become_one_test_per_cell_with_its_points() -> None:
    results = [
        report.Result(
            "s",
            FIRST,
            "graded",
            "",
            [report.CellScore(NB, "a", 2.0, 2.0), report.CellScore(NB, "b", 0.5, 1.0)],
        ),
        report.Result(
            "s",
            "02_relu_family",
            "not-graded",
            "02_relu_family.ipynb is missing",
            [report.CellScore("x", "c", 0, 3)],
        ),
    ]
    result = classroom.reporter_result(results, {FIRST: f"notebooks/{FIRST}/{NB}"})
    assert result["max_score"] == 6 and result["status"] == "fail"
    assert [(t["name"], t["status"], t["score"]) for t in result["tests"]] == [
        (f"{FIRST} a", "pass", 2),
        (f"{FIRST} b", "fail", 0.5),
        ("02_relu_family c", "fail", 0),
    ]
    assert result["tests"][2]["message"] == "02_relu_family.ipynb is missing"
    assert json.loads(base64.b64decode(classroom.encode(result))) == result
