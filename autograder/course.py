"""The course as nbgrader sees it: where it lives, its assignments, and private working copies of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
RELEASE = REPO / "notebooks"
CONFIG_FILES = ("nbgrader_config.py", "autograder/nbgrader_config.py")
# Absolute, not resolved: subprocesses run in other folders, and the venv's python must stay the venv's.
PYTHON = os.path.abspath(sys.executable)


def assignments() -> list[str]:
    """Assignment ids, in course order, taken from solutions/."""
    if not SOLUTIONS.is_dir():
        return []
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))


def notebook_names(assignment: str) -> list[str]:
    """Notebook file names of one assignment."""
    return sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))


def nbgrader_env() -> dict[str, str]:
    """Environment for nbgrader subprocesses: its own scripts (alembic) on PATH, TensorFlow quiet."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # otherwise TensorFlow announces oneDNN on stderr
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def nbgrader(
    root: Path, *args: str, timeout: float | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course at root, capturing its log."""
    return subprocess.run(
        [PYTHON, "-m", "nbgrader", *args],
        cwd=root,
        env=nbgrader_env() | (extra_env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_private_course(root: Path, with_release: bool = True) -> Path:
    """Copy the configuration and solutions/ to root and generate the gradebook and student versions there."""
    root.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(SOLUTIONS, root / "solutions", dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
    if with_release:
        result = nbgrader(root, "generate_assignment", "*", "--force")
        if result.returncode != 0 or "ERROR" in result.stderr:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.stderr[-4000:]}")
    return root


def regenerate_release(dest: Path = RELEASE) -> None:
    """Rewrite the student notebooks in dest from solutions/, through a private course copy."""
    with tempfile.TemporaryDirectory() as tmp:
        course = make_private_course(Path(tmp) / "course")
        for assignment in assignments():
            target = dest / assignment
            target.mkdir(parents=True, exist_ok=True)
            for name in notebook_names(assignment):
                shutil.copy2(course / "notebooks" / assignment / name, target / name)


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder notebooks`: rewrite notebooks/ from solutions/ (no options)."""
    if argv:
        print("usage: python -m autograder notebooks   (no options)", file=sys.stderr)
        return 2
    regenerate_release()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
