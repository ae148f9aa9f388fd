"""Confine student code: each notebook kernel runs in bubblewrap with resource limits and a wall clock.

The kernel sees the Python installation, the course's helper package and data, an empty scratch folder
and nothing else: no network, no gradebook, no solutions, no other student. When bubblewrap is missing
the limits still apply, but not the isolation; the grading command says so. The worker runs one
KernelServer per student in such a sandbox, which forks that student's kernels (autograder.forkserver).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer

from autograder import course
from rectified import harness

KERNEL_NAME = "rectified-sandbox"
FORKSERVER = Path(__file__).resolve().with_name("forkserver.py")
FIRST_UID = 61000  # parallel slot n runs its kernels as user FIRST_UID + n
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
# No test reads a figure, and drawing them into PNGs was about a quarter of a notebook's grading time;
# warnings are not graded (the specs say so), and on stderr nbgrader would give a test cell 0.
GRADING_ONLY = {"MPLBACKEND": "agg", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True)
class Limits:
    """What one notebook may use while it is graded."""

    cell_seconds: int = 60
    notebook_seconds: int = 300
    memory_bytes: int = 4 << 30  # address space: TensorFlow alone maps about 1.5 GB
    cpu_seconds: int = 600
    # Threads count too. Measured with TensorFlow preloaded and in use: the kernel server and a kernel are
    # 16 tasks together (one thread per pool, THREAD_VARIABLES); 64 leaves room and stops a fork loop early.
    processes: int = 64
    file_bytes: int = 64 << 20
    open_files: int = 512
    output_bytes: int = 1 << 20  # per cell
    user_id: int = FIRST_UID  # used when grading runs as root


@functools.cache
def bwrap_available() -> bool:
    """True when bubblewrap is installed and can make a network-less sandbox here."""
    if not shutil.which("bwrap"):
        return False
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--proc", "/proc", "true"],
        capture_output=True,
    )
    return probe.returncode == 0


def _prlimit(limits: Limits) -> list[str]:
    """A prlimit prefix that applies the limits to the command it starts."""
    return [
        "prlimit",
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--",
    ]


def kernel_argv(scratch: Path, runtime: Path, limits: Limits) -> list[str]:
    """The command line of a confined IPython kernel ({connection_file} is filled in by Jupyter)."""
    kernel = [course.PYTHON, "-m", "ipykernel_launcher", "-f"]
    if not bwrap_available():
        return [*_prlimit(limits), *kernel, "{connection_file}"]
    # Jupyter writes the connection file readable by its owner only; hand the kernel a readable copy.
    prelude = 'cp "$1" /tmp/kernel.json && chmod 444 /tmp/kernel.json && '
    command = [*kernel, "/tmp/kernel.json"]
    return _confined([scratch, runtime], [], prelude, command, limits, ["{connection_file}"])


def server_argv(area: Path, limits: Limits, modules: list[str], fd: int) -> list[str]:
    """The command line of a confined kernel server (see autograder.forkserver) listening on socket fd."""
    serve = [course.PYTHON, str(FORKSERVER), "serve", str(fd)]
    if not bwrap_available():
        return [*_prlimit(limits), *serve, *modules]
    # As the sandbox's pid 1 the server cannot be killed from inside (Linux delivers no signal to a pid
    # namespace's init that it has no handler for): a notebook that kills its parent kills nothing.
    return _confined([area], [FORKSERVER], "", [*serve, "--sweep", *modules], limits, [], as_pid_1=True)


def _confined(
    writable: list[Path],
    extra: list[Path],
    prelude: str,
    command: list[str],
    limits: Limits,
    args: list[str],
    as_pid_1: bool = False,
) -> list[str]:
    """command, after the shell prelude, in bubblewrap: it sees Python, the helpers, data, extra, writable."""
    read_only = sorted(
        {Path(sys.base_prefix), Path(sys.prefix), course.REPO / "rectified", course.REPO / "data", *extra}
    )
    argv = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        *(["--as-pid-1"] if as_pid_1 else []),
    ]
    argv += ["--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib64"):
        argv += ["--ro-bind-try", top, top]
    binds = [("--ro-bind", path) for path in read_only] + [("--bind", path) for path in writable]
    for _, path in binds:
        # bwrap copies the modes of the folders it creates, and /root is 0700: open the way down.
        for parent in reversed(path.parents[:-1]):
            if str(parent) not in ("/tmp",):
                argv += ["--perms", "0755", "--dir", str(parent)]
    for flag, path in binds:
        argv += [flag, str(path), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--setenv", "HOME", str(writable[0]), "--chdir", str(writable[0])]
    argv += ["--setenv", "PYTHONPATH", str(course.REPO)]  # the helper package, whatever the install
    # ipykernel polls this pid to notice its parent's exit; it is not visible in the new pid namespace.
    argv += ["--unsetenv", "JPY_PARENT_PID"]
    drop = []
    if os.geteuid() == 0:
        # Root inside the sandbox would still be root: run the kernel as nobody, without capabilities.
        drop = ["setpriv", f"--reuid={limits.user_id}", f"--regid={limits.user_id}", "--clear-groups"]
        drop += ["--inh-caps=-all"]
        drop += ["--bounding-set=-all", "--"]
    inner = " ".join(["chmod 1777 /tmp &&", prelude, "exec", *_prlimit(limits), *drop, *command])
    return [*argv, "/bin/sh", "-c", inner, "sh", *args]


def kernel_env() -> dict[str, str]:
    """Environment every grading kernel gets on top of the grader's."""
    # One thread per kernel: parallel jobs then share the cores instead of fighting over them, and
    # results do not depend on how many jobs run.
    return {name: "1" for name in THREAD_VARIABLES} | QUIET_TENSORFLOW | GRADING_ONLY


@functools.cache
def _uses_tensorflow(assignment: str) -> bool:
    """True when a released notebook of the assignment mentions TensorFlow (read once per run)."""
    return any("tensorflow" in nb.read_text() for nb in (course.RELEASE / assignment).glob("*.ipynb"))


def preloads(assignments: list[str]) -> list[str]:
    """Modules a kernel server imports for these assignments: TensorFlow only where a notebook uses it."""
    modules = ["numpy", "numpy.random", "matplotlib.pyplot", "ipykernel.kernelapp", "ipykernel.ipkernel"]
    if any(_uses_tensorflow(assignment) for assignment in assignments):
        return [*modules, "tensorflow", "keras"]
    return modules


def _open_to_kernels(area: Path, *folders: Path) -> None:
    """Create area (readable by all) and folders in it that the kernels, run as another user, may write."""
    area.mkdir(parents=True, exist_ok=True)
    area.chmod(0o755)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o1777)


def fresh_area(area: Path) -> None:
    """Empty the folder the kernels may write in: nothing one student wrote is left for the next."""
    shutil.rmtree(area, ignore_errors=True)
    _open_to_kernels(area, area / "runtime")


def _children(pid: int) -> list[int]:
    """The pids of a process's children (Linux), none when it is gone."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


SOCKET_PATH_BYTES = 107  # a Unix socket's path fits in sockaddr_un.sun_path: 108 bytes on Linux, with the NUL


def short_tempdir(prefix: str, room: int) -> Path:
    """A new private folder under TMPDIR, or under /tmp when TMPDIR leaves less than room bytes for the
    socket paths inside it (the kernel server's socket; ZeroMQ's ipc sockets of the kernels)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    if len(os.fsencode(folder)) + room > SOCKET_PATH_BYTES:
        os.rmdir(folder)
        folder = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    return Path(folder)


class KernelServer:
    """One student's kernel server: a sandboxed process that forks each of their notebooks' kernels."""

    def __init__(self, area: Path, limits: Limits, modules: list[str]) -> None:
        # The socket's folder is the grader's own: no kernel can see, remove or replace the socket.
        self.folder = short_tempdir("rectified-server-", len("/server.sock"))
        self.socket = self.folder / "server.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(self.socket))
            listener.listen()
            self.process = subprocess.Popen(
                server_argv(area, limits, modules, listener.fileno()),
                env=course.nbgrader_env() | kernel_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # ipykernel's start-up banner; errors still reach the worker's log
                start_new_session=True,
                pass_fds=[listener.fileno()],
            )
        # Only the server holds the socket now: once it is gone, clients are refused and fall back at once.

    def client_argv(self, cwd: Path, fallback: list[str]) -> list[str]:
        """The kernel command for Jupyter: a kernel forked by this server, or fallback if it can't."""
        client = [course.PYTHON, str(FORKSERVER), "connect", str(self.socket), "{connection_file}"]
        return [*client, str(cwd), "--", *fallback]

    def stop(self) -> None:
        """Kill the server and, with its sandbox, every process it forked."""
        # The server is bwrap's child in a session of its own: kill it by pid (it dies as its sandbox's pid 1,
        # which ends every process in the sandbox), then bwrap.
        for child in _children(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def prepare_kernel(root: Path, area: Path, name: str, limits: Limits, server: KernelServer | None = None):
    """Make a fresh scratch folder in area and a kernel spec in root/jupyter for one notebook.

    area lies outside the course copy (a fresh temporary folder), so that the folders bwrap creates on the
    way to the scratch folder reveal nothing about the grader's own files.
    """
    scratch = area / name
    runtime = area / "runtime"
    shutil.rmtree(scratch, ignore_errors=True)
    _open_to_kernels(area, scratch, runtime)
    spec_dir = root / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = kernel_argv(scratch, runtime, limits)
    spec = {
        "argv": server.client_argv(scratch, argv) if server else argv,
        "display_name": "sandbox",
        "language": "python",
        # Signals do not cross into the sandbox's own session: ask the kernel to interrupt itself.
        "interrupt_mode": "message",
        "env": kernel_env(),
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


class SandboxedExecute(Execute):
    """nbgrader's Execute with a per-notebook wall clock, capped outputs, and a record of a dying cell."""

    notebook_seconds = Integer(300, help="wall-clock seconds for the whole notebook").tag(config=True)
    output_bytes = Integer(1 << 20, help="bytes of output kept per cell").tag(config=True)
    deadline = 0.0
    dead_cell: int | None = None
    notebook = ""
    hit_notebook_limit = False

    def preprocess(self, nb, resources=None, km=None):
        """Execute the notebook, starting the notebook's clock."""
        type(self).deadline = time.monotonic() + self.notebook_seconds
        type(self).dead_cell = None
        type(self).notebook = (resources or {}).get("nbgrader", {}).get("notebook", "")
        type(self).hit_notebook_limit = False
        self._output_sizes: dict[int, int] = {}
        self._reports: dict[int, int] = {}
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        """The cell's own limit, or what is left of the notebook's, whichever is shorter."""
        remaining = type(self).deadline - time.monotonic()
        if remaining <= 0:
            type(self).hit_notebook_limit = True
        own = super()._get_timeout(cell)
        left = max(1, int(remaining))
        return left if own is None else min(own, left)

    def preprocess_cell(self, cell, resources, index):
        """Execute one cell, remembering it if the kernel dies or its messages break under it."""
        try:
            return super().preprocess_cell(cell, resources, index)
        except Exception:
            # With allow_errors, a cell's own exception never lands here: only a dead kernel or a
            # broken channel (forked children writing to the kernel's sockets) does.
            type(self).dead_cell = index
            raise

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most output_bytes of output per cell, then a note; errors and probe reports always stay.

        A probe's report is read by the judge (autograder.judging), which bounds its size itself.
        """
        sizes = self._output_sizes
        data = msg.get("content", {}).get("data", {})
        report = harness.MIME in data
        if report:  # more than one is tampering already; a few are kept to show it, none over the size
            self._reports[cell_index] = self._reports.get(cell_index, 0) + 1
            if self._reports[cell_index] > 3:
                return None
            if len(json.dumps(data[harness.MIME])) > harness.REPORT_BYTES:
                data[harness.MIME] = {"report": ""}
        kept = report or msg["msg_type"] == "error"
        if sizes.get(cell_index, 0) > self.output_bytes and not kept:
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if kept:
            return out
        sizes[cell_index] = sizes.get(cell_index, 0) + len(json.dumps(out) if out else "")
        if sizes[cell_index] > self.output_bytes:
            note = new_output(
                "stream", name="stdout", text=f"[output cut: over {self.output_bytes // 1024} KB]\n"
            )
            keep = [o for o in outs if o.get("output_type") == "error" or harness.MIME in o.get("data", {})]
            outs[:] = [note, *keep]
        return out
