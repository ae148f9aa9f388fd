"""What the sandboxed kernel's command line exposes, and that a live sandboxed kernel is confined."""

from __future__ import annotations

from pathlib import Path

import kernels
import pytest

from autograder import course, sandbox


def test_the_kernel_sees_no_network_and_none_of_the_course_secrets(tmp_path: Path) -> None:
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is not available: `make setup` installs it as root")
    argv = sandbox.kernel_argv(tmp_path / "scratch", tmp_path / "runtime", sandbox.Limits())
    assert argv[0] == "bwrap" and "--unshare-net" in argv and "--die-with-parent" in argv
    bound = {argv[i + 1] for i, arg in enumerate(argv) if arg in ("--bind", "--ro-bind")}
    assert str(course.SOLUTIONS) not in bound and str(course.REPO) not in bound
    writable = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--bind"}
    assert writable == {str(tmp_path / "scratch"), str(tmp_path / "runtime")}
    assert any(a.startswith("--as=") for a in " ".join(argv).split())


def test_limits_reach_the_kernel_command(tmp_path: Path) -> None:
    limits = sandbox.Limits(memory_bytes=1 << 30, cpu_seconds=7, processes=33)
    text = " ".join(sandbox.kernel_argv(tmp_path, tmp_path, limits))
    assert "--as=1073741824" in text and "--cpu=7" in text and "--nproc=33" in text


def test_a_live_sandboxed_kernel_is_confined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is not available: `make setup` installs it as root")
    limits = sandbox.Limits(memory_bytes=3 << 30)
    with kernels.kernel(tmp_path, "a1", limits, monkeypatch) as (_, client):
        assert kernels.run(client, kernels.CONFINEMENT_PROBE) == kernels.confined_answers(limits)


def test_tensorflow_is_preloaded_only_for_assignments_that_use_it() -> None:
    assert {"tensorflow", "keras"} <= set(sandbox.preloads(["01_activations", "05_vanishing_gradients"]))
    assert "tensorflow" not in sandbox.preloads(["01_activations", "04_xor_bug"])
    assert "numpy" in sandbox.preloads(["01_activations"])


def test_a_fresh_area_keeps_nothing_from_the_last_student(tmp_path: Path) -> None:
    area = tmp_path / "area"
    sandbox.fresh_area(area)
    (area / "01_activations" / "notes.txt").parent.mkdir()
    (area / "01_activations" / "notes.txt").write_text("answers")
    (area / "runtime" / "planted").write_text("for the next student")
    sandbox.fresh_area(area)
    assert [p.relative_to(area) for p in area.rglob("*")] == [Path("runtime")]
    assert (area / "runtime").stat().st_mode & 0o7777 == 0o1777
