"""06_label_it_yourself in a real browser, as a person would use it.

Voilà serves the notebook (prepared with ``interactive=True``) on 127.0.0.1; headless Chromium,
driven by Playwright, reads which images are shown, clicks the true class of each, submits,
and checks that the probe retrained (the accuracy line and the saved results move on) — twice.
A screenshot of the widget is kept (``docs/img/widget.png`` when missing, or always with
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


def test_label_one_batch_in_a_real_browser(served_notebook, tmp_path):
    from playwright.sync_api import sync_playwright

    import alkit

    url, out_dir = served_notebook
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

            first = _label_shown_batch(page, emb.y_train, emb.classes)
            page.wait_for_function(
                "() => document.querySelector('.alkit-accuracy').innerText.includes('Iteration 1')",
                timeout=60_000,
            )
            text1 = _accuracy_text(page)
            assert f"retrained on {emb.n_classes} labels" in text1
            page.wait_for_function(  # the next batch replaced the first
                f"() => !document.querySelector('.alkit-item-0 code').innerText.includes('#{first[0]}')",
                timeout=60_000,
            )

            second = _label_shown_batch(page, emb.y_train, emb.classes)
            page.wait_for_function(
                "() => document.querySelector('.alkit-accuracy').innerText.includes('Iteration 2')",
                timeout=60_000,
            )
            text2 = _accuracy_text(page)
            # a third batch half labeled, for the picture: chosen classes show green
            page.wait_for_function(
                f"() => !document.querySelector('.alkit-item-0 code').innerText.includes('#{second[0]}')",
                timeout=60_000,
            )
            _label_shown_batch(page, emb.y_train, emb.classes, n=emb.n_classes // 2)
            page.locator(".alkit-labeling-loop").screenshot(path=str(tmp_path / "widget.png"))
        finally:
            browser.close()
    assert not set(first) & set(second)
    acc1, acc2 = (float(re.search(r"accuracy ([\d.]+) %", t).group(1)) for t in (text1, text2))
    assert f"retrained on {2 * emb.n_classes} labels" in text2
    assert acc1 != acc2, "the shown accuracy did not change after retraining"
    saved = pd.read_parquet(
        out_dir / "results.parquet"
    )  # written by the kernel after each retraining
    assert saved["n_labeled"].tolist() == [emb.n_classes, 2 * emb.n_classes]
    np.testing.assert_allclose(100 * saved["accuracy"].to_numpy(), [acc1, acc2], atol=0.05)
    if not SCREENSHOT.exists() or os.environ.get("ALKIT_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "widget.png", SCREENSHOT)
