"""Shared fixtures: a private course copy generated once per test session, and the seed tutorial's circles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder import course

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_report_header() -> str:
    """Name the assignments under test."""
    return f"assignments: {', '.join(course.assignments()) or '(none)'}"


@pytest.fixture(scope="session")
def private_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course with its gradebook and student versions generated from solutions/."""
    return course.make_private_course(tmp_path_factory.mktemp("course") / "course")


@pytest.fixture(scope="session")
def circles():
    """The two-circles data as the notebooks train on it: (x_train, y_train, x_test, y_test), float32."""
    from rectified import training

    return training.circles_split()
