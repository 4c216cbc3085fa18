"""The book builds with no warnings, and every page looks right in a real browser.

The build runs `jupyter-book build -W -n --keep-going` into a temporary folder, so it never
touches the reader's `_build/`. Each page in `_toc.yml` is then opened in headless Chromium,
driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`: JSON messages
separated by NUL bytes on file descriptors 3 and 4), which needs no extra Python package and
no network port. A page passes when its math has been typeset by MathJax, every image has
loaded, nothing was fetched from outside the book, and the console shows no error.
"""
from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600
PAGE_TIMEOUT_S = 60

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-first-run",
    "--no-default-browser-check", "--mute-audio", "--window-size=1280,1600",
    "--remote-debugging-pipe",
)


def toc_pages() -> list[str]:
    """Every document in _toc.yml, in reading order (root, then chapters and their sections)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or ():
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or ():
        walk(part.get("chapters"))
    return [str(Path(page).with_suffix("")) for page in pages]


PAGES = toc_pages()


def expects_math(page: str) -> bool:
    """The introduction and every chapter (NN_topic) state some math."""
    return page == PAGES[0] or re.match(r"\d\d_", Path(page).name) is not None


# -- the build ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                          env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"})
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    return {"returncode": proc.returncode, "log": log, "html": out / "_build" / "html"}


def test_book_builds_without_warnings(built_book):
    problems = [line for line in built_book["log"].splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line) or "Traceback" in line]
    detail = "\n".join(problems) or built_book["log"][-4000:]
    assert built_book["returncode"] == 0 and not problems, (
        f"jupyter-book build -W -n --keep-going failed (exit {built_book['returncode']}):\n{detail}")
    for page in PAGES:
        assert (built_book["html"] / f"{page}.html").is_file(), f"{page}.html was not written"


# -- the browser ----------------------------------------------------------------------------

def find_chromium() -> str | None:
    """$CHROMIUM if set, else the first Chromium or Chrome on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"]) or os.environ["CHROMIUM"]
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


class DevTools:
    """A minimal Chrome DevTools Protocol client over --remote-debugging-pipe."""

    def __init__(self, executable: str, profile_dir: Path, log_path: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        self.log_path = log_path
        self._log = open(log_path, "wb")
        # The shell moves our pipes to the descriptors Chromium reads (3) and writes (4).
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>&2', "sh", executable,
             *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=to_browser_r, stdout=from_browser_w, stderr=self._log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._last_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = PAGE_TIMEOUT_S) -> dict:
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, waiting_for=method)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method: str, session: str, timeout: float = PAGE_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self.events.append(self._receive(deadline, waiting_for=method))

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive in the next `seconds` (late console messages)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._receive(deadline, waiting_for="late events"))
        except TimeoutError:
            pass

    def _receive(self, deadline: float, waiting_for: str) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"Chromium did not answer in time ({waiting_for})")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe; its log:\n" + self.log_tail())
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._log.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (looked for $CHROMIUM, " + ", ".join(CHROMIUM_NAMES)
                    + "): install Debian's `chromium` to check the rendered pages")
    home = tmp_path_factory.mktemp("chromium")
    devtools = DevTools(executable, home / "profile", home / "chromium.log")
    try:
        version = devtools.send("Browser.getVersion", timeout=PAGE_TIMEOUT_S)
    except Exception as exc:
        log = devtools.log_tail()
        devtools.close()
        pytest.fail(f"{executable} did not start: {exc}\n{log}")
    devtools.version = version.get("product", "?")
    yield devtools
    devtools.close()


# Runs in the page once it has loaded: waits for MathJax and the images, then reports.
PAGE_REPORT_JS = r"""
(async () => {
  const images = [...document.images];
  await Promise.all(images.map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done);
      setTimeout(done, 20000);
    });
  }));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  const formulas = [...document.querySelectorAll('.math')];
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  const raw = main.textContent.match(/.{0,30}(\$\$|\\\(|\\\[).{0,30}/g) || [];
  return {
    mathjax: window.MathJax && MathJax.version ? MathJax.version : null,
    formulas: formulas.length,
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: formulas.filter(e => !e.querySelector('mjx-container'))
                       .map(e => e.textContent.trim().slice(0, 80)),
    tex_errors: [...new Set([...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
                  .map(e => e.getAttribute('data-mjx-error') || e.textContent))].slice(0, 5),
    raw_math: raw.slice(0, 5),
    broken_images: images.filter(img => !(img.complete && img.naturalWidth > 0))
                         .map(img => img.currentSrc || img.src),
    images: images.length,
    external: performance.getEntriesByType('resource').map(r => r.name)
                .filter(name => !name.startsWith(location.origin) && !name.startsWith('data:')),
  };
})()
"""


def console_errors(events: list[dict], session: str) -> list[str]:
    errors = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "?")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                        for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            errors.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())
    return errors


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(built_book, browser, page):
    html = built_book["html"] / f"{page}.html"
    if not html.is_file():
        pytest.fail(f"{page}.html was not built; see test_book_builds_without_warnings")
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": html.as_uri()}, session=session)
        browser.wait_for_event("Page.loadEventFired", session)
        result = browser.send("Runtime.evaluate", {"expression": PAGE_REPORT_JS, "awaitPromise": True,
                                                   "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            pytest.fail(f"the page check script failed: {result['exceptionDetails']}")
        report = result["result"]["value"]
        browser.drain(0.5)
        errors = console_errors(browser.events, session)
    finally:
        try:
            browser.send("Target.closeTarget", {"targetId": target}, timeout=10)
        except (RuntimeError, TimeoutError):
            pass  # the browser is gone; the error that got us here says why

    where = f"{page}.html in {browser.version}"
    assert not errors, f"{where}: console errors:\n" + "\n".join(errors)
    assert not report["external"], f"{where}: fetched from outside the book: {report['external']}"
    assert not report["broken_images"], f"{where}: images that did not load: {report['broken_images']}"
    if expects_math(page):
        assert report["formulas"] > 0, f"{where}: no math found on a page that should have some"
    if report["formulas"]:
        assert report["mathjax"], f"{where}: has {report['formulas']} formulas but MathJax did not load"
        assert not report["untypeset"], f"{where}: formulas MathJax did not typeset: {report['untypeset']}"
        assert report["typeset"] >= report["formulas"], f"{where}: {report}"
    assert not report["tex_errors"], f"{where}: TeX errors: {report['tex_errors']}"
    assert not report["raw_math"], f"{where}: raw TeX delimiters left in the text: {report['raw_math']}"
