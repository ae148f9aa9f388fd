"""report.html (autograder.class_report) from synthetic results: what it says, that nothing a student wrote
becomes HTML, that it loads nothing from elsewhere, and that headless Chromium draws every figure.

Chromium and Selenium are installed as tests/test_browser.py installs them (Debian's chromium and
chromium-driver, the pinned Selenium).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, _install_chromium, _install_selenium

from autograder import class_report, report, similarity

A1, A2 = "01_activations", "02_relu_family"
CELLS = {A1: {"test_sigmoid": 2.0, "test_sigmoid_grad": 1.0, "test_tanh_grad": 1.0}, A2: {"test_relu": 1.0}}
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'


def _result(
    student: str, assignment: str, lost: dict[str, str], status: str = "graded", seconds: float = 4.0
):
    cells = [
        report.CellScore(
            f"{assignment}.ipynb", cell, 0.0 if cell in lost else points, points, lost.get(cell, "")
        )
        for cell, points in CELLS[assignment].items()
    ]
    message = "; ".join(f"{cell} (-{CELLS[assignment][cell]:g}): {why}" for cell, why in lost.items())
    return report.Result(student, assignment, status, message, cells, "fp", seconds)


def class_results() -> list[report.Result]:
    """Eleven students of 01 and four of 02: the same mistake with other values, a hostile message."""
    results = [_result(f"s{k:02d}", A1, {}, seconds=3.0 + k) for k in range(5)]
    for k in range(5, 9):  # the same wrong sign, with other numbers: one group
        results.append(
            _result(
                f"s{k:02d}", A1, {"test_sigmoid": f"sigmoid(np.array(-1.25)) returned {k}.5, expected 0.22"}
            )
        )
    results.append(_result("evil", A1, {"test_tanh_grad": HOSTILE}, seconds=12.5))
    results.append(_result("s09", A1, dict.fromkeys(CELLS[A1], "it was not graded"), "kernel-died", 0.0))
    results += [
        _result(f"s{k:02d}", A2, {"test_relu": "relu(-1) returned -1, expected 0"} if k else {})
        for k in range(3)
    ]
    results.append(report.Result("x<b>y</b>", A2, "unreadable", "x.ipynb is not a notebook file", []))
    return results


PAIRS = [
    similarity.Pair(A1, "s00", "s01", 0.95, 400, True),
    similarity.Pair(A1, "s02", "s03", 0.10, 20, False),
    similarity.Pair(A1, "s04", "evil", 0.05, 0, False),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    class_report.write(path, class_results(), PAIRS)
    return path


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_every_test_cell_and_assignment_is_named(page: Path) -> None:
    text = _text(page)
    for assignment, cells in CELLS.items():
        assert assignment in text
        for cell in cells:
            assert cell in text, cell


def test_failure_rates_messages_statuses_and_lowest_scores(page: Path) -> None:
    source = page.read_text(encoding="utf-8")
    # test_sigmoid: 4 wrong answers + the kernel death = 5 of 11 students.
    assert re.search(
        r"<td>test_sigmoid</td><td[^>]*>2</td><td[^>]*>5</td><td[^>]*>11</td><td[^>]*>45%</td>", source
    )
    # The four messages that differ only in their numbers are one group of 4, with its students.
    assert re.search(
        r'<td class="num">4</td><td>sigmoid\(np.array\(-1.25\)\) returned \d.5, expected 0.22</td>'
        r"<td>s05, s06, s07, s08</td>",
        source,
    )
    assert re.search(r"<td>kernel-died</td><td[^>]*>1</td><td>s09</td>", source)
    assert re.search(r"<td>unreadable</td><td[^>]*>1</td><td>x&lt;b&gt;y&lt;/b&gt;</td>", source)
    lowest = source.split("<h3>Lowest scores</h3>")[1]
    assert lowest.index("s09") < lowest.index("s05") < lowest.index("s00")
    slowest = source.split("<h3>Grading time</h3>")[1]
    assert slowest.index("evil") < slowest.index("s04")  # 12.5 s first, each submission's own time
    assert "12.5" in slowest


def test_the_similarity_section_says_a_flag_is_not_a_verdict(page: Path) -> None:
    text = _text(page)
    assert "A flag is a reason to look, not a verdict" in text
    section = page.read_text(encoding="utf-8").split("<h3>Similar answer code</h3>")[1]
    assert re.search(r"<td>s00</td><td>s01</td><td[^>]*>0.95</td><td[^>]*>400</td><td[^>]*>yes</td>", section)


def test_student_text_is_escaped_and_nothing_is_loaded_from_elsewhere(page: Path) -> None:
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source.lower() and "onerror=alert" not in source.replace(
        "onerror=alert(1)&gt;", ""
    )
    assert html.escape(HOSTILE) in source
    assert "<b>y</b>" not in source
    assert not re.search(r"""(?:src|href)=["']?(?:https?:|//)""", source), "an external resource"
    assert "@import" not in source and "url(" not in source
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'<img[^>]*src="([^"]+)"', source)
    )


@pytest.fixture(scope="module")
def chromium():
    _install_chromium()
    _install_selenium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def check_in_chromium(driver, page: Path, cells: list[str]) -> None:
    """Open the page offline in Chromium: every figure decoded and drawn, every test cell named."""
    driver.get(page.as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);"
    )
    assert images, "no figure on the page"
    assert all(done and width > 0 and height > 0 for done, width, height in images), images
    assert driver.title == "Grading report"  # no injected script changed it
    assert driver.execute_script("return document.scripts.length") == 0
    shown = driver.execute_script("return document.body.innerText")
    missing = [cell for cell in cells if cell not in shown]
    assert not missing, missing
    assert "A flag is a reason to look, not a verdict" in shown


def test_the_report_opens_in_headless_chromium_with_its_figures_drawn(chromium, page: Path) -> None:
    check_in_chromium(chromium, page, [cell for cells in CELLS.values() for cell in cells])
    figures = len(re.findall(r"<img ", page.read_text(encoding="utf-8")))
    # 01: scores, failure rates, grading time, pairs; 02: the same without pairs (none compared)
    assert figures == 7


def test_an_empty_class_still_gives_a_page(tmp_path: Path) -> None:
    class_report.write(tmp_path / "report.html", [], [])
    assert "Grading report" in (tmp_path / "report.html").read_text(encoding="utf-8")
