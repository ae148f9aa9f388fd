"""Start notebook kernels by forking one process that has already imported the heavy libraries.

A fresh kernel pays for Python, IPython, NumPy, Matplotlib and often TensorFlow (about 3 s) on every
notebook. The grading worker instead starts one server per student inside the sandbox:

    python forkserver.py serve SOCKET [--sweep] MODULE...

which imports the modules once and forks a kernel for each request. Jupyter launches, as the kernel,

    python forkserver.py connect SOCKET SERVER_PID CONNECTION_FILE CWD -- FALLBACK_ARGV...

which hands the connection file and its own environment to the server and lives exactly as long as the
forked kernel, so that Jupyter sees a kernel die, and kills it, as usual. When the server is gone the
client runs FALLBACK_ARGV (a fresh sandboxed kernel) instead. Standard library only: the server runs
inside the sandbox, where this file is the only part of the grader it can see.
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
import time

CONNECT_SECONDS = 120  # the server may still be importing TensorFlow on a busy machine


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


def serve(path: str, modules: list[str], sweep: bool) -> None:
    """Import the modules, then fork a kernel for every client that connects, until killed."""
    del sys.path[0]  # this file's folder: a kernel's sys.path must not start with it
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen()
    os.rename(path + ".new", path)  # clients wait for the name: it appears once imports are done
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
                request = json.loads(conn.makefile().readline())
                for pid in list(hung_up):  # a new kernel starts only once the last one is cleared
                    finished(pid, os.waitpid(pid, 0)[1])
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, [listener, conn, *kernels.values()])
                kernels[pid] = conn
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


def _server_alive(pid: int) -> bool:
    """True while the server's sandbox process runs (a zombie, not yet reaped by the worker, is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def connect(path: str, server_pid: int, connection_file: str, cwd: str, fallback: list[str]) -> int:
    """Have the server fork a kernel and wait for its exit code; run the fallback when it can't."""
    deadline = time.monotonic() + CONNECT_SECONDS
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            sock.connect(path)
            break
        except ConnectionRefusedError:  # the socket is there but nobody listens: the server died
            os.execvp(fallback[0], fallback)
        except OSError:
            if not _server_alive(server_pid) or time.monotonic() > deadline:
                os.execvp(fallback[0], fallback)
            time.sleep(0.05)
    with open(connection_file) as file:
        connection = json.load(file)
    env = dict(os.environ)
    env.pop("JPY_PARENT_PID", None)  # the kernel's parent is the server, not Jupyter
    request = {"connection": connection, "env": env, "cwd": cwd}
    sock.sendall((json.dumps(request) + "\n").encode())
    reply = sock.makefile().readline().split()
    return int(reply[1]) if len(reply) == 2 and reply[0] == "exit" else 1


def main(argv: list[str]) -> int:
    """Command line: serve SOCKET [--sweep] MODULE... | connect SOCKET PID CONNECTION CWD -- FALLBACK..."""
    if argv[0] == "serve":
        sweep = "--sweep" in argv[2:]
        serve(argv[1], [m for m in argv[2:] if m != "--sweep"], sweep)
        return 0
    split = argv.index("--")
    path, pid, connection_file, cwd = argv[1:split]
    return connect(path, int(pid), connection_file, cwd, argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
