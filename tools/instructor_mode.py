"""Switch JupyterLab between the student and the instructor view of nbgrader.

    python tools/instructor_mode.py on       # instructor: Formgrader, Create Assignment and Courses on
    python tools/instructor_mode.py off      # student: those three off and locked (Binder's postBuild)
    python tools/instructor_mode.py status   # what a JupyterLab started now would show

Both views keep the notebook toolbar's Validate button and the Assignment List. The switch is written to
the Jupyter configuration of the Python environment that runs this script (--level sys_prefix, the
default), or of the user (--level user, in $JUPYTER_CONFIG_DIR, default ~/.jupyter). It uses Jupyter's own
commands (`jupyter labextension disable/lock`, `jupyter server extension disable`), so it is undone by
their opposites too. Restart JupyterLab and reload the page after switching.
"""

from __future__ import annotations

import argparse
import sys

# JupyterLab 4 plugin ids of nbgrader 0.9 (nbgrader issue #1921) that only an instructor needs.
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
# Their server side: the formgrader pages and the list of courses one grades.
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
# What students keep.
STUDENT_PLUGINS = ("@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:assignment-list")
STUDENT_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
)


def _plugins(action: str, level: str, plugins: tuple[str, ...]) -> None:
    """What `jupyter labextension <action> --level=<level> <plugins>` does, in this process."""
    from jupyterlab import commands

    for plugin in plugins:
        getattr(commands, f"{action}_extension")(plugin, level=level)


def _server_extension(name: str, enabled: bool, level: str) -> None:
    """What `jupyter server extension enable/disable` writes. Its command line refuses (and still exits 0)
    at a level whose config does not list the extension yet, as --user does on a fresh install."""
    from jupyter_server.extension.serverextension import toggle_server_extension_python

    toggle_server_extension_python(name, enabled, user=level == "user", sys_prefix=level == "sys_prefix")


def switch(on: bool, level: str = "sys_prefix") -> None:
    """Turn the instructor panels on (unlock, enable) or off (disable, lock) at a configuration level."""
    if on:
        _plugins("unlock", level, INSTRUCTOR_PLUGINS)
        _plugins("enable", level, INSTRUCTOR_PLUGINS)
    else:
        _plugins("disable", level, INSTRUCTOR_PLUGINS)
        _plugins("lock", level, INSTRUCTOR_PLUGINS)
    for name in INSTRUCTOR_SERVER_EXTENSIONS:
        _server_extension(name, on, level)
    # the student side stays on in both views
    _plugins("enable", level, STUDENT_PLUGINS)
    for name in STUDENT_SERVER_EXTENSIONS:
        _server_extension(name, True, level)


def status() -> dict[str, bool]:
    """Plugin or server extension -> whether a JupyterLab started now loads it (all levels merged)."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyterlab_server.config import get_static_page_config

    disabled = get_static_page_config(level="all").get("disabledExtensions", {})
    if isinstance(disabled, list):
        disabled = dict.fromkeys(disabled, True)
    state = {p: not disabled.get(p, False) for p in (*INSTRUCTOR_PLUGINS, *STUDENT_PLUGINS)}
    # jupyter_config_path() lists the highest priority first; inside a virtual or conda environment that
    # is the environment's config, before the user's, unless JUPYTER_PREFER_ENV_PATH=0
    manager = ExtensionConfigManager(read_config_path=jupyter_config_path())
    extensions = manager.get_jpserver_extensions()
    for name in (*INSTRUCTOR_SERVER_EXTENSIONS, *STUDENT_SERVER_EXTENSIONS):
        state[name] = bool(extensions.get(name, False))
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/instructor_mode.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", choices=["on", "off", "status"])
    parser.add_argument("--level", choices=["sys_prefix", "user"], default="sys_prefix")
    args = parser.parse_args(argv)
    if args.mode != "status":
        switch(args.mode == "on", args.level)
    state = status()
    for name, loaded in state.items():
        print(f"{'on ' if loaded else 'off'}  {name}")
    instructor = all(state[n] for n in (*INSTRUCTOR_PLUGINS, *INSTRUCTOR_SERVER_EXTENSIONS))
    student = not any(state[n] for n in (*INSTRUCTOR_PLUGINS, *INSTRUCTOR_SERVER_EXTENSIONS))
    view = "instructor" if instructor else "student" if student else "mixed"
    print("view:", view)
    if args.mode == "status":
        return 0
    wanted = "instructor" if args.mode == "on" else "student"
    if view != wanted:
        print(
            f"The {wanted} view was not reached: a higher configuration level overrides --level {args.level}."
        )
        return 1
    print("Restart JupyterLab and reload the page to see the change.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
