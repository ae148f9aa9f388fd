"""JupyterLab as a student sees it, in real headless Chromium driven by Selenium.

The test installs what it lacks: Debian's chromium and chromium-driver (apt-get, as root) and Selenium
(pip, into this environment, pinned below). It serves a folder laid out like the course (the nbgrader
config at the root, notebooks/<assignment>/) with a finished student notebook of the small assignment: the
released notebook with the solution's answers filled in. Jupyter's user configuration lives in a temporary
JUPYTER_CONFIG_DIR, switched to the student view with `python tools/instructor_mode.py off --level user`.

In the browser it runs all cells from the Run menu, saves, checks the saved notebook has no error output,
presses nbgrader's Validate button and reads the result dialog; checks the student view (Validate and the
Assignment List there; Formgrader, Course List and Create Assignment absent, /formgrader answers 404);
then switches to the instructor view with the documented command, restarts JupyterLab, and checks the
instructor panels are back. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from student_copy import finished, small_assignment

from autograder import course

REPO = course.REPO
ARTIFACTS = REPO / "artifacts" / "browser"
SELENIUM = "selenium==4.51.0"  # 4.52.0 needs a certifi newer than this machine's index has
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# exactly the flags of issue 7, plus a fresh profile per run
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 90  # seconds for any one DOM condition; a notebook runs in under 30 s


def _install_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    assert shutil.which("apt-get") and os.geteuid() == 0, (
        "headless Chromium is missing: install Debian's chromium and chromium-driver (the test does it as root)"
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr[-3000:]}"
    assert CHROMIUM.exists() and CHROMEDRIVER.exists()


def _install_selenium() -> None:
    try:
        importlib.import_module("selenium.webdriver")
        return
    except ImportError:
        pass
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SELENIUM]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"pip install {SELENIUM} failed:\n{result.stderr[-3000:]}"
    importlib.invalidate_caches()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """One JupyterLab server on a loopback port, with a token."""

    def __init__(self, root: Path, env: dict[str, str], log: Path) -> None:
        self.root, self.port, self.token = root, _free_port(), os.urandom(12).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: to wait on the kernel and cells
            "--LabApp.news_url=",
        ]
        if os.geteuid() == 0:  # CI runs as root
            command.append("--ServerApp.allow_root=True")
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while self.get("/api/status")[0] != 200:
            assert self.process.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
            time.sleep(0.25)

    def get(self, path: str) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, ""
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def webdriver_module():
    _install_chromium()
    _install_selenium()
    from selenium import webdriver

    return webdriver


@pytest.fixture
def browser(webdriver_module, tmp_path: Path) -> Iterator:
    from selenium.webdriver.chrome.service import Service

    options = webdriver_module.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver_module.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1400, 1000)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, condition, what: str, timeout: float = WAIT):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)
    except TimeoutException:
        _shot(driver, f"timeout-{what.replace(' ', '-')}")
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def _shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _css(driver, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return [e for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]


NOTEBOOK_STATE = """
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) { return null; }
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = Array.from(panel.content.model.cells);
return {
  kernel: kernel ? kernel.status : 'none',
  code: cells.filter(c => c.type === 'code').length,
  executed: cells.filter(c => c.type === 'code' && c.executionCount !== null).length,
  dirty: panel.context.model.dirty,
};
"""


def _menu(driver, label: str) -> None:
    """Open a menu of JupyterLab's menu bar by its label."""
    items = [e for e in _css(driver, ".lm-MenuBar-item") if e.text.strip() == label]
    assert items, f"no {label!r} menu in the menu bar"
    items[0].click()
    _wait(driver, lambda d: _css(d, ".lm-Menu"), f"the {label} menu")


def _menu_commands(driver) -> set[str]:
    return {e.get_attribute("data-command") for e in _css(driver, ".lm-Menu .lm-Menu-item")}


def _close_menu(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()  # to the open menu, which has the focus
    _wait(driver, lambda d: not _css(d, ".lm-Menu"), "the menu to close")


def _open_notebook(driver, lab: Lab, relative: str) -> None:
    driver.get(f"{lab.url}/lab/tree/{relative}?token={lab.token}")
    _wait(driver, lambda d: d.execute_script(NOTEBOOK_STATE), "the notebook to open")
    _wait(driver, lambda d: d.execute_script(NOTEBOOK_STATE)["kernel"] == "idle", "the kernel to be idle")


def _student_root(tmp_path: Path) -> tuple[Path, str]:
    """A folder laid out like the course for a student, with a finished notebook of the small assignment."""
    root = tmp_path / "course"
    for name in course.CONFIG_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    assignment = small_assignment()
    relative = f"notebooks/{assignment}/{assignment}.ipynb"
    (root / relative).parent.mkdir(parents=True)
    nbformat.write(finished(assignment), root / relative)
    return root, relative


def _jupyter_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "NBGRADER_", "JPY_"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),  # user level: labconfig, settings, workspaces
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        JUPYTER_PREFER_ENV_PATH="1",  # this environment's config first, as in a student's own install
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


def _no_news_prompt(env: dict[str, str]) -> None:
    """Answer JupyterLab's "get notified about Jupyter news?" toast in advance, so it covers no screenshot."""
    folder = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))


def _mode(mode: str, env: dict[str, str]) -> str:
    """Switch the view exactly as `make instructor` / `make student` do: in this environment's config."""
    command = [sys.executable, str(REPO / "tools" / "instructor_mode.py"), mode]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_student_runs_and_validates_a_notebook_then_instructor_view(browser, tmp_path: Path) -> None:

    root, relative = _student_root(tmp_path)
    env = _jupyter_env(tmp_path)
    before = "on" if "view: instructor" in _mode("status", env) else "off"
    try:
        _student_then_instructor(browser, root, relative, env, tmp_path)
    finally:
        _mode(before, env)  # leave this environment's view as it was


def _student_then_instructor(browser, root: Path, relative: str, env: dict[str, str], tmp_path: Path) -> None:
    """The body of the test above: the student view, Run All, Validate, then the instructor's command."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    assert "view: student" in _mode("off", env)
    _no_news_prompt(env)
    lab = Lab(root, env, tmp_path / "lab-student.log")
    try:
        # --- the student view --------------------------------------------------------------------
        assert lab.get("/formgrader")[0] == 404, "the formgrader pages are served in the student view"
        _open_notebook(browser, lab, relative)
        assert _css(browser, ".validate-button"), "no Validate button in the notebook toolbar"
        assert not browser.find_elements("id", "nbgrader-create_assignemnt"), "Create Assignment panel is on"
        _menu(browser, "Nbgrader")
        commands = _menu_commands(browser)
        _shot(browser, "01-student-nbgrader-menu")
        assert "nbgrader:open-assignment-list" in commands, commands
        instructor_only = {
            "nbgrader:open-formgrader",
            "nbgrader:open-course-list",
            "nbgrader:open-create-assignment",
        }
        assert not commands & instructor_only, commands
        _close_menu(browser)

        # --- run all cells as a student does, then save ------------------------------------------
        _menu(browser, "Run")
        run_all = [e for e in _css(browser, ".lm-Menu-item") if e.text.strip().startswith("Run All Cells")]
        assert run_all, "no Run All Cells in the Run menu"
        run_all[0].click()
        _wait(
            browser,
            lambda d: (
                (s := d.execute_script(NOTEBOOK_STATE))["executed"] == s["code"] and s["kernel"] == "idle"
            ),
            "all cells to run",
        )
        ActionChains(browser).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
        _wait(browser, lambda d: not d.execute_script(NOTEBOOK_STATE)["dirty"], "the notebook to be saved")
        _shot(browser, "02-notebook-after-run-all")
        saved = nbformat.read(root / relative, as_version=4)
        code = [c for c in saved.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), "a code cell did not run"
        errors = [
            (c.metadata.get("nbgrader", {}).get("grade_id", c.get("id")), o.get("ename"), o.get("evalue"))
            for c in code
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, f"error output after Run All: {errors}"
        noisy_tests = [
            c.metadata.nbgrader.grade_id
            for c in code
            if c.metadata.get("nbgrader", {}).get("grade")
            and any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs)
        ]
        assert not noisy_tests, f"test cells wrote to stderr (0 points in nbgrader): {noisy_tests}"
        errors_in_page = _css(
            browser, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert not [e.text for e in errors_in_page if "Traceback" in e.text or "Error" in e.text]

        # --- Validate -----------------------------------------------------------------------------
        _css(browser, ".validate-button")[0].click()
        message = _wait(browser, lambda d: _css(d, ".jp-Dialog #validation-message"), "the Validate dialog")[
            0
        ]
        _shot(browser, "03-validate-result")
        title = _css(browser, ".jp-Dialog .jp-Dialog-header")[0].text
        assert title.strip() == "Validation Results", title
        assert "validation-success" in message.get_attribute("class"), message.text
        assert "Success! Your notebook passes all the tests." in message.text, message.text
        _css(browser, ".jp-Dialog .jp-mod-accept")[0].click()
        _wait(browser, lambda d: not _css(d, ".jp-Dialog"), "the dialog to close")

        # --- the Assignment List stays ------------------------------------------------------------
        _menu(browser, "Nbgrader")
        [
            e
            for e in _css(browser, ".lm-Menu-item")
            if e.get_attribute("data-command") == "nbgrader:open-assignment-list"
        ][0].click()
        _wait(browser, lambda d: _css(d, "#nbgrader-assignment-list"), "the Assignment List")
        _shot(browser, "04-student-assignment-list")
    finally:
        lab.stop()

    # --- the instructor's one command, then a restart ---------------------------------------------
    assert "view: instructor" in _mode("on", env)
    lab = Lab(root, env, tmp_path / "lab-instructor.log")
    try:
        assert lab.get("/formgrader")[0] == 200, "the formgrader is not served in the instructor view"
        _open_notebook(browser, lab, relative)
        _wait(
            browser,
            lambda d: d.find_elements("id", "nbgrader-create_assignemnt"),
            "the Create Assignment panel",
        )
        assert _css(browser, ".validate-button")
        _menu(browser, "Nbgrader")
        commands = _menu_commands(browser)
        _shot(browser, "05-instructor-nbgrader-menu")
        assert {*instructor_only, "nbgrader:open-assignment-list"} <= commands, commands
        plugins = browser.execute_script(
            "return ['formgrader','create-assignment','course-list','validate-assignment','assignment-list']"
            ".map(p => window.jupyterapp.hasPlugin('@jupyter/nbgrader:' + p));"
        )
        assert plugins == [True] * 5, plugins
    finally:
        lab.stop()
    (ARTIFACTS / "README.txt").write_text(
        json.dumps(
            {"notebook": relative, "screenshots": sorted(p.name for p in ARTIFACTS.glob("*.png"))}, indent=1
        )
    )
