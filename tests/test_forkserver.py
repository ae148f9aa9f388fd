"""Kernels forked by one student's kernel server: as confined as fresh ones, and nothing carries over."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import kernels
import pytest

from autograder import sandbox

LIMITS = sandbox.Limits(memory_bytes=3 << 30)
PRELOADS = ["random", "numpy.random", "ipykernel.kernelapp"]  # TensorFlow imports both generators


@pytest.fixture
def server(tmp_path: Path) -> Iterator[sandbox.KernelServer]:
    """A kernel server for one student; the preloads seed their random generators before any fork."""
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is not available: `make setup` installs it as root")
    sandbox.fresh_area(tmp_path / "area")
    started = sandbox.KernelServer(tmp_path / "area", LIMITS, PRELOADS)
    yield started
    started.stop()


def test_a_forked_kernel_is_confined_like_a_fresh_one(tmp_path, monkeypatch, server) -> None:
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, kernels.CONFINEMENT_PROBE) == kernels.confined_answers(LIMITS)


def test_a_forked_kernel_has_the_graders_environment_its_folder_and_the_preloads(
    tmp_path, monkeypatch, server
) -> None:
    probe = """
import os, sys
print('nbgrader', os.environ.get('NBGRADER_EXECUTION'))
print('threads', os.environ.get('OMP_NUM_THREADS'))
print('cwd', os.getcwd())
print('home', os.environ['HOME'])
print('preloaded', 'numpy' in sys.modules)
"""
    extra = {"NBGRADER_EXECUTION": "autograde"}
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server, extra) as (_, client):
        seen = kernels.run(client, probe)
    scratch = str(tmp_path / "area" / "a1")
    assert seen == {
        "nbgrader": "autograde",
        "threads": "1",
        "cwd": scratch,
        "home": scratch,
        "preloaded": "True",
    }


def test_kernels_of_one_server_do_not_share_random_state(tmp_path, monkeypatch, server) -> None:
    probe = "import random, numpy\nprint('python', random.random())\nprint('numpy', numpy.random.rand())"
    draws = []
    for name in ("a1", "a2"):
        with kernels.kernel(tmp_path, name, LIMITS, monkeypatch, server) as (_, client):
            draws.append(kernels.run(client, probe))
    assert draws[0]["python"] != draws[1]["python"] and draws[0]["numpy"] != draws[1]["numpy"]


def test_nothing_a_notebook_leaves_running_reaches_the_next(tmp_path, monkeypatch, server) -> None:
    leave_behind = """
import os, subprocess
child = subprocess.Popen(['sleep', '600'], start_new_session=True)
print('pids', os.getpid(), child.pid)
"""
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        pids = kernels.run(client, leave_behind)["pids"].split()
    look = f"import os\nprint('alive', [os.path.exists(f'/proc/{{p}}') for p in {pids}])"
    with kernels.kernel(tmp_path, "a2", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, look) == {"alive": "[False, False]"}


def test_a_kernel_that_exits_is_seen_dead_and_the_next_one_starts(tmp_path, monkeypatch, server) -> None:
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (km, client):
        client.execute("import os; os._exit(3)")
        assert kernels.dies(km)
    with kernels.kernel(tmp_path, "a2", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, "print('answer', 6 * 7)") == {"answer": "42"}


def test_without_its_server_a_notebook_gets_a_fresh_confined_kernel(tmp_path, monkeypatch, server) -> None:
    server.stop()  # as if a student's code had killed it
    probe = "import sys\nprint('preloaded', 'numpy' in sys.modules)\n" + kernels.CONFINEMENT_PROBE
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        seen = kernels.run(client, probe)
    assert seen == kernels.confined_answers(LIMITS) | {"preloaded": "False"}


def test_a_notebook_cannot_kill_its_server(tmp_path, monkeypatch, server) -> None:
    # The server is its sandbox's pid 1: Linux delivers it no signal from inside that it does not handle,
    # so a kernel's death can never lag behind the cell that tried (the cause of a wrongly charged cell).
    attack = (
        "import os, signal\nfor pid in (os.getppid(), 1, -1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n        pass\nprint('still', 'here')"
    )
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (km, client):
        assert kernels.run(client, attack) == {"still": "here"}
        assert kernels.run(client, "print('answer', 6 * 7)") == {"answer": "42"}
        assert km.is_alive()
    probe = "import sys\nprint('preloaded', 'numpy.random' in sys.modules)"
    with kernels.kernel(tmp_path, "a2", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, probe) == {"preloaded": "True"}  # forked by the same server


def test_without_bubblewrap_the_server_still_forks_limited_kernels(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_available", lambda: False)
    sandbox.fresh_area(tmp_path / "area")
    server = sandbox.KernelServer(tmp_path / "area", LIMITS, PRELOADS)
    probe = "import resource, sys\nprint('preloaded', 'numpy.random' in sys.modules)\n"
    probe += "print('as', resource.getrlimit(resource.RLIMIT_AS)[0])"
    try:
        with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
            seen = kernels.run(client, probe)
    finally:
        server.stop()
    assert seen == {"preloaded": "True", "as": str(LIMITS.memory_bytes)}


def test_a_notebook_cannot_reach_its_servers_socket(tmp_path, monkeypatch, server) -> None:
    probe = f"import os\nprint('socket', os.path.exists({str(server.socket)!r}))"
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, probe) == {"socket": "False"}
    assert server.socket.exists()  # it is there, outside the sandbox


def test_a_client_that_hangs_up_or_talks_nonsense_does_not_stop_the_server(
    tmp_path, monkeypatch, server
) -> None:
    for message in (b"", b"nonsense\n", b"[1, 2]\n"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(server.socket))
            sock.sendall(message)
    probe = "import sys\nprint('preloaded', 'numpy.random' in sys.modules)"
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        assert kernels.run(client, probe) == {"preloaded": "True"}  # forked by the server, not a fallback


def test_stopping_a_server_leaves_no_process_behind(tmp_path, monkeypatch, server) -> None:
    with kernels.kernel(tmp_path, "a1", LIMITS, monkeypatch, server) as (_, client):
        kernels.run(client, "print('answer', 6 * 7)")
        inside = sandbox._children(server.process.pid)
    assert inside, "the server should run as bwrap's child"
    server.stop()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in inside) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in inside), "the sandboxed server outlived stop()"


def test_a_long_tmpdir_still_gives_the_server_a_socket(tmp_path, monkeypatch) -> None:
    """A Unix socket's path holds at most 107 bytes: a long TMPDIR must not stop the grading."""
    long_tmp = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    folder = sandbox.short_tempdir("rectified-server-", len("/server.sock"))
    try:
        path = folder / "server.sock"
        assert len(os.fsencode(path)) <= sandbox.SOCKET_PATH_BYTES
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # private, as mkdtemp makes it
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))
        assert not list(long_tmp.iterdir())  # the folder first made under TMPDIR is gone
    finally:
        shutil.rmtree(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    short = sandbox.short_tempdir("rectified-server-", len("/server.sock"))
    assert short.parent == tmp_path  # a short TMPDIR is used as it is
