"""How much memory a student's whole session takes, measured as Binder counts it (its limit: 2 GB).

A student works through the notebooks in order and leaves each kernel running. This starts JupyterLab as
``make lab`` does (same command, same configuration), opens the six finished notebooks one after the other
through the server's own REST and websocket API (a session per notebook, as the browser makes it), runs every
code cell of each, leaves its kernel running, and then sums the proportional set size (PSS, from
``/proc/<pid>/smaps_rollup``) of the server and all its descendants: shared libraries are counted once, split
among the processes that map them, which is what a container's memory limit sees.

    python benchmarks/session_memory.py              # the six solution notebooks, about a minute on 2 cores
    python benchmarks/session_memory.py --limit-mb 2048

It prints one row per process and the total, and exits 1 if the total is over the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BINDER_LIMIT_MB = 2048


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_lab(port: int, token: str) -> subprocess.Popen:
    """JupyterLab as `make lab` runs it, on a private port and token, without a browser."""
    command = [
        str(BIN / "jupyter"),
        "lab",
        "--ServerApp.root_dir=.",
        "--LabApp.default_url=/lab/tree/notebooks",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
    ]
    if os.getuid() == 0:
        command.append("--allow-root")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def api(port: int, token: str, method: str, path: str, body: dict | None = None) -> dict:
    """One call of the server's REST API."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
    return json.loads(text) if text else {}


def wait_for_server(port: int, token: str, server: subprocess.Popen, timeout: float = 120) -> None:
    """Block until the server answers, or fail if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: JupyterLab exited with status {server.returncode}")
        try:
            api(port, token, "GET", "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("error: JupyterLab did not answer within two minutes")


async def run_cells(port: int, token: str, kernel_id: str, sources: list[str]) -> str:
    """Execute the cells in order in the kernel, as the browser would; the first error, or ''."""
    session = uuid.uuid4().hex
    url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?session_id={session}"
    connection = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            message = {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": session,
                    "username": "student",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": source, "silent": False, "store_history": True, "allow_stdin": False},
                "channel": "shell",
                "buffers": [],
            }
            await connection.write_message(json.dumps(message))
            replied = idle = False
            error = ""
            while not (replied and idle):
                raw = await connection.read_message()
                if raw is None:
                    return "the kernel's websocket closed"
                if isinstance(raw, bytes):  # binary frames carry buffers (e.g. widgets); not ours
                    continue
                reply = json.loads(raw)
                if reply.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = reply["header"]["msg_type"]
                if kind == "execute_reply":
                    replied = True
                    if reply["content"].get("status") == "error":
                        error = f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
                elif kind == "status" and reply["content"].get("execution_state") == "idle":
                    idle = True
            if error:
                return error
        return ""
    finally:
        connection.close()


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def pss_mb(pid: int) -> float:
    """Proportional set size of one process, in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=BINDER_LIMIT_MB, help="Binder's memory limit")
    args = parser.parse_args(argv)

    import nbformat

    notebooks = sorted((REPO / "solutions").glob("*/*.ipynb"))
    port, token = free_port(), secrets.token_hex(16)
    server = start_lab(port, token)
    kernels: dict[str, str] = {}
    try:
        wait_for_server(port, token, server)
        for path in notebooks:
            relative = path.relative_to(REPO).as_posix()
            session = api(
                port,
                token,
                "POST",
                "/api/sessions",
                {"path": relative, "type": "notebook", "name": path.name, "kernel": {"name": "python3"}},
            )
            kernel_id = session["kernel"]["id"]
            sources = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
            start = time.perf_counter()
            error = asyncio.run(run_cells(port, token, kernel_id, sources))
            print(f"  ran {relative:<58} {time.perf_counter() - start:5.1f} s  {error}", flush=True)
            kernels[kernel_id] = path.stem
        time.sleep(2)  # let the kernels settle after their last cell
        rows = []
        for pid in descendants(server.pid):
            line = command_line(pid)
            label = "jupyter lab (the server)" if pid == server.pid else line[:60]
            for kernel_id, name in kernels.items():
                if kernel_id in line:
                    label = f"kernel of {name}"
            rows.append((label, pss_mb(pid)))
        total = sum(mb for _, mb in rows)
        print(f"\nA student's session: JupyterLab and the kernels of {len(kernels)} notebooks, left running")
        for label, mb in rows:
            print(f"  {label:<60} {mb:7.0f} MB")
        print(f"  {'total (proportional set size)':<60} {total:7.0f} MB   limit {args.limit_mb:.0f} MB")
        return 0 if total <= args.limit_mb else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
