"""What the sandboxed kernel's command line exposes, and that a live sandboxed kernel is confined."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
    from jupyter_client import KernelManager

    sandbox.prepare_kernel(tmp_path, tmp_path / "area", "a1", sandbox.Limits(memory_bytes=3 << 30))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    runtime = tmp_path / "area" / "runtime"
    km = KernelManager(
        kernel_name=sandbox.KERNEL_NAME,
        transport="ipc",
        ip=str(runtime / "k"),
        connection_file=str(runtime / "k.json"),
    )
    km.start_kernel(env=course.nbgrader_env())
    outputs: list[str] = []
    try:
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        code = f"""
import os, socket, resource
print('uid', os.getuid())
print('solutions', os.path.exists({str(course.SOLUTIONS)!r}))
print('repo_file', os.path.exists({str(course.REPO / "README.md")!r}))
try:
    open({str(Path(sys.prefix) / "pwned")!r}, 'w')
    print('wrote_venv True')
except OSError:
    print('wrote_venv False')
try:
    socket.create_connection(('127.0.0.1', 22), timeout=1)
    print('net True')
except OSError:
    print('net False')
print('as', resource.getrlimit(resource.RLIMIT_AS)[0])
import rectified.data
print('helper', len(rectified.data.load_xor()[0]))
"""

        def hook(msg):
            if msg["msg_type"] == "stream":
                outputs.append(msg["content"]["text"])

        client.execute_interactive(code, timeout=60, output_hook=hook)
        client.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    seen = dict(line.split() for line in "".join(outputs).splitlines())
    assert seen == {
        "uid": str(sandbox.FIRST_UID if os.geteuid() == 0 else os.getuid()),
        "solutions": "False",
        "repo_file": "False",
        "wrote_venv": "False",
        "net": "False",
        "as": str(3 << 30),
        "helper": "4",
    }
