"""Binder: environment.yml, postBuild and .dockerignore build the course's environment, as a student gets it.

The last test installs environment.yml's pip section for real, into a fresh virtual environment of the
Python that environment.yml pins (it fails on a machine without that Python, which would test another
environment): about
1.5 minutes with pip's cache on 2 cores. Then it builds what repo2docker would put in the image (the
repository less what .dockerignore leaves out), runs postBuild there, and checks the result: the helper
package imports, the student view is on, the solutions are absent, and a finished student notebook passes
its self-check with the fresh install. What it cannot check: conda itself (the conda part is only Python
and pip) and Binder's own base environment.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from student_copy import finished, small_assignment

from autograder import course

REPO = course.REPO


def _requirement_lines() -> list[str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def _pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip: section"
    return [str(line).strip() for line in sections[0]]


def _pinned_python(env: dict) -> str:
    pins = [d for d in env["dependencies"] if isinstance(d, str) and re.match(r"python\b", d)]
    assert len(pins) == 1, f"environment.yml must pin python once, found {pins}"
    match = re.fullmatch(r"python=(3\.\d+)", pins[0])
    assert match, (
        f"{pins[0]!r}: pin python to a minor version, as python=3.12 (repo2docker's default is 3.10)"
    )
    return match.group(1)


def test_environment_yml_uses_conda_forge_and_pins_python() -> None:
    env = _environment()
    assert env["channels"] == ["conda-forge"], "environment.yml: use conda-forge, and only it"
    version = _pinned_python(env)
    assert tuple(map(int, version.split("."))) >= (3, 11), "nbgrader 0.9.6 needs Python 3.11 or newer"
    assert "pip" in env["dependencies"], "environment.yml: list pip itself before its pip: section"
    conda_packages = [d for d in env["dependencies"] if isinstance(d, str)]
    assert sorted(conda_packages) == ["pip", f"python={version}"], (
        f"conda installs only Python and pip; everything else is pinned in requirements.txt: {conda_packages}"
    )


def test_pip_section_repeats_requirements_txt_line_for_line() -> None:
    expected = _requirement_lines()
    got = _pip_section(_environment())
    assert got == expected, "environment.yml's pip section differs from requirements.txt:\n" + "\n".join(
        f"  yml: {g!r}\n  txt: {e!r}" for g, e in zip(got, expected, strict=False) if g != e
    )
    for line in got:
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{line!r} is not pinned with =="


def test_requirements_pin_tensorflow_for_every_platform() -> None:
    """Exactly one TensorFlow wheel applies on each platform a student may have."""
    platforms = [
        {"sys_platform": "linux", "platform_machine": "x86_64"},
        {"sys_platform": "linux", "platform_machine": "aarch64"},
        {"sys_platform": "darwin", "platform_machine": "arm64"},
        {"sys_platform": "win32", "platform_machine": "AMD64"},
    ]
    tf = [Requirement(line) for line in _requirement_lines() if line.startswith("tensorflow")]
    for platform in platforms:
        applies = [r.name for r in tf if r.marker is None or r.marker.evaluate(platform)]
        assert len(applies) == 1, f"{platform}: TensorFlow requirements that apply: {applies}"


def test_binder_reads_the_root_files() -> None:
    """repo2docker ignores the root environment.yml and postBuild when binder/ or .binder/ exists."""
    for name in ("binder", ".binder"):
        assert not (REPO / name).exists(), f"{name}/ would make Binder ignore environment.yml and postBuild"


def test_post_build_stops_on_errors_and_switches_to_the_student_view() -> None:
    post_build = REPO / "postBuild"
    assert os.access(post_build, os.X_OK), "postBuild must be executable"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash\n"), "postBuild needs a bash shebang"
    assert re.search(r"^set -e", text, re.M), "without set -e repo2docker ignores a failing step"
    assert "tools/instructor_mode.py off" in text
    assert re.search(r"pip install .*-e \.", text), "postBuild installs the rectified package"


# --- what repo2docker copies into the image --------------------------------------------------------


def _ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rules for the patterns used here: a pattern matches a path or any folder
    above it, ** spans folders, a trailing / is dropped, the last matching pattern wins, ! re-includes."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            ignored = not negate
    return ignored


def _repository_files() -> list[str]:
    """Files a clone would have: tracked, plus new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [f for f in listed if (REPO / f).is_file()]


def _image_files() -> list[str]:
    patterns = _ignore_patterns()
    return [f for f in _repository_files() if not _ignored(f, patterns)]


def test_dockerignore_matcher_follows_dockers_rules() -> None:
    patterns = ["solutions/", "**/gradebook.db", "**/__pycache__/", "*.egg-info/"]
    assert _ignored("solutions/01/01.ipynb", patterns)
    assert _ignored("gradebook.db", patterns) and _ignored("autograder/gradebook.db", patterns)
    assert _ignored("rectified/__pycache__/data.cpython-312.pyc", patterns)
    assert not _ignored("notebooks/01/01.ipynb", patterns) and not _ignored("sub/solutions", patterns)
    assert _ignored("keep/a", ["keep/", "!keep/b"]) and not _ignored("keep/b", ["keep/", "!keep/b"])


def test_dockerignore_hides_solutions_but_keeps_what_students_need() -> None:
    image = set(_image_files())
    assert not [f for f in image if f.startswith("solutions/")], "solutions/ would be in the Binder image"
    assert not [f for f in image if f.startswith(".git/")]
    for needed in (
        "environment.yml",
        "postBuild",
        "pyproject.toml",
        "nbgrader_config.py",
        "tools/instructor_mode.py",
    ):
        assert needed in image, f"{needed} would be missing from the Binder image"
    for folder in ("rectified/", "autograder/", "data/", "notebooks/"):
        assert [f for f in image if f.startswith(folder)], f"{folder} would be missing from the Binder image"
    for assignment in course.assignments():
        for name in course.notebook_names(assignment):
            assert f"notebooks/{assignment}/{name}" in image, f"the student notebook {assignment}/{name}"
    for path in (REPO / "data").glob("*.csv"):
        assert f"data/{path.name}" in image, f"data/{path.name}"


def test_repo2docker_builds_from_environment_yml_with_its_python_and_runs_post_build() -> None:
    """Binder's own builder, not our reading of it: the Dockerfile it would build (``--no-build``)."""
    version = _pinned_python(_environment())
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-repo2docker")), "--no-build", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert f"Building conda environment for python={version}" in log, (
        f"repo2docker does not build Python {version} from environment.yml:\n{log[:2000]}"
    )
    assert '--file "environment.yml"' in log, "repo2docker would not install environment.yml"
    assert "RUN ./postBuild" in log, "repo2docker would not run postBuild"


def test_a_missing_pinned_python_fails_the_binder_install_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="no Python 3.99 here"):
        _python("3.99")


# --- the real install ------------------------------------------------------------------------------


def _python(version: str) -> str:
    """An interpreter of the pinned version (pyenv's folder, or PATH); else the running one."""
    candidates = [
        str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    ]
    candidates += [shutil.which(f"python{version}") or ""]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    # Installing with another Python would test a different environment from Binder's and pass anyway.
    pytest.fail(
        f"no Python {version} here (environment.yml pins it for Binder): install it, e.g. `pyenv install"
        f" {version}`; the running Python {sys.version.split()[0]} would not test what Binder builds"
    )


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def test_pip_section_installs_into_a_fresh_environment_and_post_build_makes_the_student_image() -> None:
    env_yml = _environment()
    version = _pinned_python(env_yml)
    with tempfile.TemporaryDirectory(prefix="binder-") as tmp:  # ~2 GB: removed at once, not kept by pytest
        tmp = Path(tmp)
        python = _python(version)
        subprocess.run([python, "-m", "venv", str(tmp / "env")], check=True, timeout=120)
        bin_dir = tmp / "env" / "bin"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_CONFIG_DIR")
        }
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
            HOME=str(tmp / "home"),  # the image's home: no user-level Jupyter config from this machine
            PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        (tmp / "home").mkdir()
        pip_section = tmp / "pip-section.txt"
        pip_section.write_text("\n".join(_pip_section(env_yml)) + "\n")
        _run(
            [
                str(bin_dir / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",  # no .pyc for 2 GB of TensorFlow up front: halves the time, installs the same files
                "-r",
                str(pip_section),
            ],
            tmp,
            env,
            timeout=900,
        )
        _run([str(bin_dir / "python"), "-m", "pip", "check"], tmp, env, timeout=120)
        versions = _run(
            [
                str(bin_dir / "python"),
                "-c",
                "import sys, importlib.metadata as m\nfor n in sys.argv[1:]: print(n, m.version(n))",
                *[
                    Requirement(line).name
                    for line in _requirement_lines()
                    if Requirement(line).marker is None
                ],
            ],
            tmp,
            env,
            timeout=60,
        )
        for line in _requirement_lines():
            requirement = Requirement(line)
            if requirement.marker is None:
                pinned = str(requirement.specifier).removeprefix("==")
                assert f"{requirement.name} {pinned}\n" in versions, f"{requirement.name}: {versions}"

        # the image: the repository less .dockerignore, then postBuild in it, as repo2docker does
        image = tmp / "repo"
        for name in _image_files():
            (image / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, image / name)
        _run(["bash", "postBuild"], image, env, timeout=600)
        assert not (image / "solutions").exists()

        view = _run([str(bin_dir / "python"), "tools/instructor_mode.py", "status"], image, env, timeout=120)
        assert "view: student" in view, view
        probe = (
            "import rectified, autograder; from rectified.data import load_circles; x, y = load_circles(); "
            "print(rectified.__file__, x.shape)"
        )
        out = _run([str(bin_dir / "python"), "-c", probe], tmp, env, timeout=120)
        assert str(image / "rectified") in out and "(1000, 2)" in out, out

        # a finished student notebook passes its visible tests in the new environment
        assignment = small_assignment()
        target = image / "notebooks" / assignment / f"{assignment}-done.ipynb"
        nbformat.write(finished(assignment), target)
        report = _run(
            [str(bin_dir / "python"), "-m", "rectified.selfcheck", str(target.relative_to(image))],
            image,
            env,
            timeout=600,
        )
        assert "All visible tests pass" in report, report
