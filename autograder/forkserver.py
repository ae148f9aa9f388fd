"""Start notebook kernels by forking one process that has already imported the heavy libraries.

A fresh kernel pays for Python, IPython, NumPy, Matplotlib and often TensorFlow (about 3 s) on every
notebook. The grading worker instead starts one server per student inside the sandbox:

    python forkserver.py serve FD [--sweep] MODULE...

which imports the modules once and forks a kernel for each client of the listening socket FD. The worker
creates that socket in a folder the sandbox cannot see and hands the server only the open descriptor, so
no notebook can remove or replace it. Jupyter launches, as the kernel,

    python forkserver.py connect SOCKET CONNECTION_FILE CWD -- FALLBACK_ARGV...

which hands the connection file and its own environment to the server and lives exactly as long as the
forked kernel, so that Jupyter sees a kernel die, and kills it, as usual. When the server is gone, or does
not fork in time, the client runs FALLBACK_ARGV (a fresh sandboxed kernel) instead. Standard library only:
the server runs inside the sandbox, where this file is the only part of the grader it can see.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile

FORK_SECONDS = 120  # the server may still be importing TensorFlow on a busy machine
REQUEST_SECONDS = 10  # a client sends its request at once


def _die_with_parent() -> None:
    """Be killed when bwrap (or the worker) dies: changing user inside the sandbox cleared bwrap's setting."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _kill_all_but_me() -> None:
    """Kill every process in this pid namespace except its init (pid 1) and this server."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, os.getpid()):
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def _become_kernel(request: dict, server_sockets: list[socket.socket]) -> None:
    """In the forked child: take the client's environment and folder, then run an IPython kernel."""
    code = 1
    try:
        os.setsid()
        for sock in server_sockets:
            sock.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the kernel is interrupted by SIGINT
        sandboxed = {name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ}
        os.environ.clear()
        os.environ.update(request["env"] | sandboxed)
        os.chdir(request["cwd"])
        os.environ["HOME"] = os.environ["PWD"] = request["cwd"]
        # A fresh kernel seeds these from the OS; forked ones would all share the server's state.
        import random

        random.seed()
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()
        handle, path = tempfile.mkstemp(prefix="kernel-", suffix=".json")
        with os.fdopen(handle, "w") as file:
            json.dump(request["connection"], file)
        sys.argv = ["ipykernel_launcher", "-f", path]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _exit_code(status: int) -> int:
    """The exit code a shell would report for a waitpid status."""
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _read_request(conn: socket.socket) -> dict | None:
    """The client's request, or None when it hung up or sent something else."""
    conn.settimeout(REQUEST_SECONDS)
    try:
        request = json.loads(conn.makefile().readline())
    except (OSError, ValueError):
        return None
    conn.settimeout(None)
    return request if isinstance(request, dict) else None


def serve(fd: int, modules: list[str], sweep: bool) -> None:
    """Import the modules, then fork a kernel for every client of the listening socket fd, until killed."""
    del sys.path[0]  # this file's folder: a kernel's sys.path must not start with it
    # As pid 1 of its sandbox, the server gets only the signals it handles: it handles none, so no kernel
    # can stop it (Python's own SIGINT handler would let one).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent()
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    listener = socket.socket(fileno=fd)
    kernels: dict[int, socket.socket] = {}  # kernel pid -> its client's connection
    hung_up: set[int] = set()  # kernels whose client is gone: killed, not yet reaped

    def finished(pid: int, status: int) -> None:
        """Clear up after a kernel, then tell its client, which tells Jupyter."""
        conn = kernels.pop(pid)
        hung_up.discard(pid)
        if sweep and not kernels:
            _kill_all_but_me()  # what a notebook left running must not reach the next one
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {_exit_code(status)}\n".encode())
        conn.close()

    while True:
        readable, _, _ = select.select([listener, *kernels.values()], [], [], 0.1)
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                request = _read_request(conn)
                if request is None:
                    conn.close()
                    continue
                for pid in list(hung_up):  # a new kernel starts only once the last one is cleared
                    finished(pid, os.waitpid(pid, 0)[1])
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, [listener, conn, *kernels.values()])
                kernels[pid] = conn
                with contextlib.suppress(OSError):
                    conn.sendall(b"started\n")
            elif sock in kernels.values():  # the client is gone: Jupyter killed the kernel
                pid = next(p for p, c in kernels.items() if c is sock)
                if pid not in hung_up:
                    hung_up.add(pid)
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
        while kernels:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in kernels:
                finished(pid, status)


def connect(path: str, connection_file: str, cwd: str, fallback: list[str]) -> int:
    """Have the server fork a kernel and wait for its exit code; run the fallback when it can't."""
    with open(connection_file) as file:
        connection = json.load(file)
    env = dict(os.environ)
    env.pop("JPY_PARENT_PID", None)  # the kernel's parent is the server, not Jupyter
    request = {"connection": connection, "env": env, "cwd": cwd}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)  # refused once the server is gone: nobody else holds the listening socket
        sock.sendall((json.dumps(request) + "\n").encode())
        sock.settimeout(FORK_SECONDS)
        replies = sock.makefile()
        started = replies.readline() == "started\n"
    except OSError:
        started = False
    if not started:
        sock.close()
        os.execvp(fallback[0], fallback)
    sock.settimeout(None)
    reply = replies.readline().split()
    return int(reply[1]) if len(reply) == 2 and reply[0] == "exit" else 1


def main(argv: list[str]) -> int:
    """Command line: serve FD [--sweep] MODULE... | connect SOCKET CONNECTION_FILE CWD -- FALLBACK..."""
    if argv[0] == "serve":
        serve(int(argv[1]), [m for m in argv[2:] if m != "--sweep"], "--sweep" in argv[2:])
        return 0
    split = argv.index("--")
    path, connection_file, cwd = argv[1:split]
    return connect(path, connection_file, cwd, argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
