"""06_label_it_yourself in a real browser, as a person would use it.

Voilà serves the notebook (prepared with ``interactive=True``) on 127.0.0.1; headless Chromium,
driven by Playwright, reads which images are shown, clicks the true class of each, submits,
and checks that the probe retrained (the accuracy line and the saved results move on) — twice.
Then it reloads the page (a new kernel runs the notebook again): the labels are still there,
read from the project's ``labels.csv``, the batch that was waiting is shown again, and labeling
it continues the session. The page never shows text meant for headless runs, nor an empty
image. A screenshot of the widget is kept (``docs/img/widget.png`` when missing, or always with
``ALKIT_UPDATE_SCREENSHOT=1``).

Needs: Debian's ``chromium`` (``apt-get install -y chromium``), and the Python packages
``playwright`` and ``voila`` (no browser download: Playwright drives ``/usr/bin/chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "06_label_it_yourself.ipynb"
SCREENSHOT = REPO / "docs" / "img" / "widget.png"
CHROMIUM = os.environ.get("ALKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _requirements() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    for module, pip in (
        ("playwright.sync_api", "playwright"),
        ("voila", "voila"),
        ("papermill", "papermill"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"Python package {pip!r} is not installed (pip install {pip})"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_requirements() is not None, reason=str(_requirements())),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "voila/static/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # the server answers (404 for the folder itself)
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"voila did not answer on {url} within {timeout} s")


@pytest.fixture
def served_notebook(tmp_path):
    """Voilà serving 06_label_it_yourself with interactive=True; yields (url, out_dir)."""
    import papermill

    out_dir = tmp_path / "out"
    work = tmp_path / "nb"
    work.mkdir()
    prepared = work / NOTEBOOK.name
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(prepared),
        prepare_only=True,
        parameters={"interactive": True, "iterations": 3, "out_dir": str(out_dir)},
    )
    port = _free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", ALKIT_HOME=str(tmp_path / "home"))
    log = open(tmp_path / "voila.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(prepared),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--ServerApp.log_level=WARN",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc)
        yield url, out_dir
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _accuracy_text(page) -> str:
    return page.locator(".alkit-accuracy").inner_text()


def _label_shown_batch(
    page, y_true: np.ndarray, classes: list[str], n: int | None = None
) -> list[int]:
    """Click the true class under the first ``n`` (default: every) shown image, then Submit when all
    are labeled; returns the shown pool indices that were labeled."""
    items = page.locator(".alkit-item")
    shown = []
    for pos in range(items.count() if n is None else n):
        item = page.locator(f".alkit-item-{pos}")
        index = int(item.locator("code").inner_text().strip().lstrip("#"))
        shown.append(index)
        item.get_by_role("button", name=classes[y_true[index]], exact=True).click()
    if n is not None:
        return shown
    submit = page.locator("button.alkit-submit")
    page.wait_for_function(
        "() => !document.querySelector('button.alkit-submit').disabled", timeout=30_000
    )
    submit.click()
    return shown


def _wait_iteration(page, i: int) -> str:
    page.wait_for_function(
        f"() => document.querySelector('.alkit-accuracy').innerText.includes('Iteration {i}')",
        timeout=60_000,
    )
    return _accuracy_text(page)


def _wait_new_batch(page, previous_first: int) -> None:
    page.wait_for_function(  # the next batch replaced the one before
        "() => !document.querySelector('.alkit-item-0 code').innerText"
        f".includes('#{previous_first}')",
        timeout=60_000,
    )


def _shown(page) -> list[int]:
    items = page.locator(".alkit-item code")
    return [int(items.nth(i).inner_text().strip().lstrip("#")) for i in range(items.count())]


def test_label_two_batches_reload_and_continue_in_a_real_browser(served_notebook, tmp_path):
    from playwright.sync_api import sync_playwright

    import alkit
    from alkit.project import Project

    url, out_dir = served_notebook
    project_dir = out_dir / "project"
    emb = alkit.load_embeddings("digits")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(
                url, timeout=180_000, wait_until="domcontentloaded"
            )  # Voilà serves the one notebook at /
            page.wait_for_selector(".alkit-item-0 button", timeout=180_000)
            assert "Label the first batch" in _accuracy_text(page)
            assert (
                page.locator(".alkit-item img").count() == emb.n_classes
            )  # the initial pool, as images
            assert page.locator("img").count() == emb.n_classes  # no empty curve image
            body = page.locator("body").inner_text()
            assert "rerun this cell" not in body and "Nothing labeled" not in body

            first = _label_shown_batch(page, emb.y_train, emb.classes)
            text1 = _wait_iteration(page, 1)
            assert f"retrained on {emb.n_classes} labels" in text1
            _wait_new_batch(page, first[0])

            second = _label_shown_batch(page, emb.y_train, emb.classes)
            text2 = _wait_iteration(page, 2)
            assert page.locator(".alkit-curve").count() == 1  # the learning curve, drawn
            assert "Stopping hint" in page.locator(".alkit-progress").inner_text()
            _wait_new_batch(page, second[0])
            waiting = _shown(page)
            # the third batch half labeled, for the picture: chosen classes show green
            _label_shown_batch(page, emb.y_train, emb.classes, n=emb.n_classes // 2)
            page.locator(".alkit-labeling-loop").screenshot(path=str(tmp_path / "widget.png"))
            saved = pd.read_parquet(out_dir / "results.parquet")  # written after each retraining
            rows = Project.open(project_dir).labels()  # every clicked label, on disk
            assert rows.index.tolist() == first + second and set(rows.source) == {"widget"}
            assert rows.label.tolist() == emb.y_train[first + second].tolist()

            # the reload: a new kernel runs the notebook, which resumes from the project
            page.reload(timeout=180_000, wait_until="domcontentloaded")
            page.wait_for_selector(".alkit-item-0 button", timeout=180_000)
            resumed = _accuracy_text(page)
            assert f"Resumed: {2 * emb.n_classes} labels" in resumed, resumed
            assert _shown(page) == waiting  # the batch that was waiting, not a new one
            # the half-labeled clicks were never submitted: the batch starts unlabeled again
            assert page.locator(".alkit-item button.mod-success").count() == 0
            assert page.locator(".alkit-curve").count() == 1  # the curve of the first session
            body = page.locator("body").inner_text()
            assert "rerun this cell" not in body and "Nothing labeled" not in body
            assert "Stopping hint" in page.locator(".alkit-progress").inner_text()
            third = _label_shown_batch(page, emb.y_train, emb.classes)
            text3 = _wait_iteration(page, 1)  # this session's first retraining
            assert f"retrained on {3 * emb.n_classes} labels" in text3
            _wait_new_batch(page, third[0])
        finally:
            browser.close()
    assert not set(first) & set(second) and third == waiting
    acc1, acc2 = (float(re.search(r"accuracy ([\d.]+) %", t).group(1)) for t in (text1, text2))
    assert f"retrained on {2 * emb.n_classes} labels" in text2
    assert acc1 != acc2, "the shown accuracy did not change after retraining"
    assert saved["n_labeled"].tolist() == [emb.n_classes, 2 * emb.n_classes]
    np.testing.assert_allclose(100 * saved["accuracy"].to_numpy(), [acc1, acc2], atol=0.05)
    rows = Project.open(project_dir).labels()
    assert rows.index.tolist() == first + second + third  # every label kept, in order
    # exactly the batches of an uninterrupted run: the reload changed nothing
    reference = alkit.run_al(emb, "margin", iterations=3, seed=0)
    assert rows.index.tolist() == reference.acquired.tolist()
    if not SCREENSHOT.exists() or os.environ.get("ALKIT_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "widget.png", SCREENSHOT)
