"""A real Label Studio server for tests: its own virtual environment, started on 127.0.0.1.

Label Studio is not a dependency of alkit. :func:`ensure_venv` installs the pinned release from
PyPI into a cached virtual environment (``$ALKIT_LS_VENV``, default
``~/.cache/alkit-test/labelstudio-venv``) and :class:`LabelStudio` starts it on a free port with
a fresh data folder, a user whose legacy API token is known, and local-files serving below a
document root; it is stopped by its PID (its process group) when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LS_VERSION = "1.23.2"
# label-studio 1.23.2 asks for sentry-sdk>=2.16 with no upper bound, and sentry-sdk 3 no longer
# takes the options Label Studio's settings pass (the server dies at start with
# "TypeError: Unknown option 'send_default_pii'"): keep the 2.x line it was released with.
REQUIREMENTS = [f"label-studio=={LS_VERSION}", "sentry-sdk>=2.16,<3"]
INSTALL_TIMEOUT_S = 300  # a cold install took 131 s on 2 busy cores
START_TIMEOUT_S = 180  # migrating a fresh database took 44–72 s
USER = "alkit-test@localhost"
PASSWORD = "alkit-test-password"
TOKEN = "alkit0test0token0123456789"  # a legacy token: 'Authorization: Token <TOKEN>'


def venv_dir() -> Path:
    env = os.environ.get("ALKIT_LS_VENV")
    return Path(env) if env else Path.home() / ".cache" / "alkit-test" / "labelstudio-venv"


def ensure_venv(log=print) -> tuple[Path | None, str]:
    """``(path of the label-studio executable, "")``, installing it first if needed;
    ``(None, reason)`` when it cannot be installed."""
    venv = venv_dir()
    exe = venv / "bin" / "label-studio"
    stamp = venv / ".alkit-installed"
    want = " ".join(REQUIREMENTS)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, whoever runs the tests
        if stamp.is_file() and stamp.read_text() == want and exe.is_file():
            return exe, ""
        shutil.rmtree(venv, ignore_errors=True)
        t0 = time.perf_counter()
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS],
        ]
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        for cmd in steps:
            left = INSTALL_TIMEOUT_S - (time.perf_counter() - t0)
            try:
                done = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=max(left, 1), env=env
                )
            except subprocess.TimeoutExpired:
                shutil.rmtree(venv, ignore_errors=True)
                return None, f"installing {want} took over {INSTALL_TIMEOUT_S} s"
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                lines = (done.stderr or done.stdout).strip().splitlines()
                errors = [line for line in lines if line.startswith("ERROR")] or lines
                why = " | ".join(line[:300] for line in errors[-2:])
                return None, f"`{' '.join(cmd[2:])}` failed: {why}"
        stamp.write_text(want)
        log(f"[labelstudio] installed {want} in {time.perf_counter() - t0:.0f} s into {venv}")
        return exe, ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudio:
    """A Label Studio server on 127.0.0.1, its REST API through :meth:`api`."""

    def __init__(self, exe: Path, workdir: Path, document_root: Path) -> None:
        self.exe = exe
        self.workdir = workdir
        self.document_root = document_root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "label-studio.log"
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        # A clean environment: Label Studio also reads bare HOST, PORT, USERNAME, PASSWORD,
        # DEBUG… (without its LABEL_STUDIO_ prefix), which a CI machine may well have set.
        keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        env.update(
            HOME=str(home),
            PYTHONUNBUFFERED="1",
            LABEL_STUDIO_BASE_DATA_DIR=str(self.workdir / "data"),
            LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
            LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=str(self.document_root),
            LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
            # Nothing leaves 127.0.0.1: no error reports, analytics or release checks.
            SENTRY_DSN="",
            FRONTEND_SENTRY_DSN="",
            COLLECT_ANALYTICS="false",
            LATEST_VERSION_CHECK="false",
        )
        return env

    def __enter__(self) -> LabelStudio:
        cmd = [
            str(self.exe), "start", "--no-browser",
            "--internal-host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.workdir / "data"),
            "--username", USER, "--password", PASSWORD, "--user-token", TOKEN,
            "--enable-legacy-api-token",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                cwd=self.workdir,
                start_new_session=True,  # its own process group, so stop() reaches every child
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, n: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"label-studio exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            log = self.log_path.read_text(errors="replace")
            if "is in use" in log:  # it would move to another port: not the one we talk to
                raise RuntimeError(f"port {self.port} was taken:\n{self.log_tail()}")
            if f"127.0.0.1:{self.port}" in log:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{self.url}/health", timeout=5) as r:
                        if r.status == 200:
                            return
            time.sleep(1)
        raise RuntimeError(
            f"label-studio did not answer in {START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Terminate the server's process group (by its PID), then kill it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def api(self, method: str, path: str, body=None, raw: bool = False):
        """Call the REST API with the legacy token; JSON in and out (bytes when ``raw``)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                payload = r.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:800].decode(errors="replace")
            raise AssertionError(f"{method} {path} → HTTP {exc.code}: {detail}") from None
        return payload if raw else json.loads(payload or b"null")
