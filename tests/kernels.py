"""Start a grading kernel the way the worker does and run code in it; used by the sandbox's tests."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client import KernelManager

from autograder import course, sandbox

CONFINEMENT_PROBE = f"""
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


def confined_answers(limits: sandbox.Limits) -> dict[str, str]:
    """What CONFINEMENT_PROBE prints in a properly confined kernel."""
    return {
        "uid": str(sandbox.FIRST_UID if os.geteuid() == 0 else os.getuid()),
        "solutions": "False",
        "repo_file": "False",
        "wrote_venv": "False",
        "net": "False",
        "as": str(limits.memory_bytes),
        "helper": "4",
    }


@contextlib.contextmanager
def kernel(
    root: Path,
    name: str,
    limits: sandbox.Limits,
    monkeypatch: pytest.MonkeyPatch,
    server: sandbox.KernelServer | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[KernelManager, object]]:
    """A started kernel for notebook `name` (forked by server when given) and its connected client."""
    area = root / "area"
    sandbox.prepare_kernel(root, area, name, limits, server)
    monkeypatch.setenv("JUPYTER_PATH", str(root / "jupyter"))
    runtime = area / "runtime"
    km = KernelManager(
        kernel_name=sandbox.KERNEL_NAME,
        transport="ipc" if sandbox.bwrap_available() else "tcp",
        ip=str(runtime / "k") if sandbox.bwrap_available() else "127.0.0.1",
        connection_file=str(runtime / "k.json"),
    )
    km.start_kernel(env=course.nbgrader_env() | (env or {}))
    client = km.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=120)
        yield km, client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def run(client, code: str) -> dict[str, str]:
    """Execute code; return what it printed as `key value` lines, as a dict (errors under 'error')."""
    outputs: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            outputs.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            outputs.append(f"error {msg['content']['ename']}\n")

    client.execute_interactive(code, timeout=60, output_hook=hook)
    return dict(line.split(maxsplit=1) for line in "".join(outputs).splitlines() if line.strip())


def dies(km: KernelManager, seconds: float = 30) -> bool:
    """True when the kernel has died within the given time."""
    deadline = time.monotonic() + seconds
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not km.is_alive()
