"""A headless Chromium driven over the DevTools protocol (CDP), for tests of the dashboard.

In: a Chromium executable (Debian's ``chromium``). Out: a `Page` that navigates, evaluates
JavaScript, clicks with real mouse events and takes PNG screenshots. Raises `BrowserError` when
the browser does not start or a command fails.

Why CDP and not Selenium with chromedriver: CDP is JSON over one WebSocket, and trio-websocket is
already a dependency, so the browser is driven from the test's own Trio loop (no worker thread,
no extra package pinning its own trio and certifi ranges against ours).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

_LISTENING = "DevTools listening on "
_MAX_MESSAGE = 64 << 20  # a full-page PNG screenshot travels base64 in one message
START_TIMEOUT_S = 20.0  # a cold Chromium on a busy CI machine takes a few seconds


class BrowserError(Exception):
    """The browser did not start, or a DevTools command failed."""


def find_chromium() -> str | None:
    """The Chromium executable: ``$BALTO_CHROMIUM``, else ``chromium`` on the PATH, else None."""
    explicit = os.environ.get("BALTO_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


ADMIN_SECRET = "test-admin-secret"  # conftest's ADMIN_SECRET
ARTIFACTS = Path(__file__).parent / "artifacts" / "admin-app"  # screenshots, git-ignored
AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.11.1, MPL-2.0 (axe.LICENSE)
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
CHROMIUM = find_chromium()
MISSING = "Chromium not found (apt-get install chromium, or set BALTO_CHROMIUM)"
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason=MISSING)
"""A browser test's mark: skipped without Chromium outside CI; under CI `chromium()` fails it."""


def chromium() -> str:
    """The Chromium to drive; fails the test when there is none (under CI)."""
    if CHROMIUM is None:
        pytest.fail(f"{MISSING}; .ci/run installs it when run as root")
    return CHROMIUM


async def open_counter(page: Page, base_url: str, api_key: str, balcao_id: str, nome: str) -> None:
    """Open the counter page linked to a registered balcão (as its linking step leaves it)."""
    await page.goto(base_url + "/balcao")
    linked = {"api_key": api_key, "balcao_id": balcao_id, "nome": nome}
    await page.evaluate(f"localStorage.setItem('balto.balcao', {json.dumps(json.dumps(linked))})")
    await page.goto(base_url + "/balcao")


async def sign_in(page: Page, base_url: str) -> None:
    """Sign in to the admin app with the tests' admin secret, as a person types it."""
    await page.goto(base_url + "/entrar")
    await page.evaluate(f'document.getElementById("segredo").value = {json.dumps(ADMIN_SECRET)}')
    await page.click("#entrar button")
    # the new document parsed too: right after the address changes, its elements may not exist
    ready = 'location.pathname === "/admin/ao-vivo" && document.readyState === "complete"'
    await page.wait_for(ready, timeout_s=10)


class Page:
    """One browser tab, attached over the browser's DevTools socket (a flat CDP session)."""

    def __init__(self, ws: WebSocketConnection, ids: itertools.count[int]) -> None:
        self._ws = ws
        self._ids = ids
        self._session_id: str | None = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result; events in between are ignored."""
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params}
        if self._session_id is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self._session_id
        await self._ws.send_message(json.dumps(message))
        while True:
            reply = json.loads(await self._ws.get_message())
            if reply.get("id") != command_id:
                continue  # an event (the test polls the page instead of subscribing)
            if "error" in reply:
                raise BrowserError(f"{method}: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    async def attach(self) -> None:
        """Open a blank tab and route later page commands to it."""
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        self._session_id = attached["sessionId"]

    async def goto(self, url: str, *, timeout_s: float = 10.0) -> None:
        """Navigate and wait until the document has loaded."""
        await self.call("Page.navigate", url=url)
        await self.wait_for('document.readyState === "complete"', timeout_s=timeout_s)

    async def wait_for(self, expression: str, *, timeout_s: float, every_s: float = 0.05) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        with trio.fail_after(timeout_s):
            for _ in itertools.count():
                if value := await self.evaluate(expression):
                    return value
                await trio.sleep(every_s)
        raise AssertionError("unreachable")  # pragma: no cover - the loop only ends by return

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises are awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript failed: {text}")
        return result["result"].get("value")

    async def text(self, selector: str) -> str:
        """The text of the first element `selector` matches."""
        text: str = await self.evaluate(
            f"document.querySelector({json.dumps(selector)}).textContent"
        )
        return text

    async def fill(self, selector: str, value: str) -> None:
        """Set the value of the field `selector` matches (as typed, without key events)."""
        await self.evaluate(
            f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}"
        )

    async def shown(self, element_id: str) -> bool:
        """Whether the element and every ancestor are displayed (``hidden`` anywhere hides it)."""
        shown: bool = await self.evaluate(
            f"document.getElementById({json.dumps(element_id)}).offsetParent !== null"
        )
        return shown

    async def click(self, selector: str, timeout_s: float = 10.0) -> None:
        """Press and release the left mouse button over the centre of the first match, scrolled
        into view first (a press outside the viewport reaches nothing).

        As a person would, it waits until the element is there, shown, still over two frames
        and on top at that point (what Playwright calls actionable): a table filling in above
        it would otherwise move another row's button under the aimed point.
        """
        aim = (
            f"new Promise((done) => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return done(null); e.scrollIntoView({block: 'nearest'});"
            " const box = () => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width,"
            " r.height]; };"
            " const before = box(); requestAnimationFrame(() => requestAnimationFrame(() => {"
            " const after = box(); const x = after[0] + after[2] / 2, y = after[1] + after[3] / 2;"
            " const top = document.elementFromPoint(x, y);"
            " const ok = after[2] > 0 && after[3] > 0 && String(before) === String(after)"
            " && top !== null && (top === e || e.contains(top));"
            " done(ok ? [x, y] : null); })); })"
        )
        with trio.fail_after(timeout_s):
            while (centre := await self.evaluate(aim)) is None:  # noqa: ASYNC110 - polling the page
                await trio.sleep(0.05)
        x, y = centre
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def set_files(self, selector: str, *paths: Path) -> None:
        """Choose `paths` in the file input `selector`, as a person picking files would."""
        document = await self.call("DOM.getDocument")
        node = await self.call(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector=selector
        )
        await self.call(
            "DOM.setFileInputFiles", files=[str(p) for p in paths], nodeId=node["nodeId"]
        )

    async def at_phone_width(self, width: int = 390, height: int = 844) -> list[int]:
        """Lay the page out as a phone of that size; its ``[scrollWidth, innerWidth]`` then (a
        page that fits does not scroll sideways: the first is not over the second)."""
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=True,
        )
        widths: list[int] = await self.evaluate(
            "[document.documentElement.scrollWidth, innerWidth]"
        )
        return widths

    async def screenshot(self) -> bytes:
        """A PNG of the whole page (beyond the viewport when the page is taller)."""
        # two frames first: what redraws on a frame after a layout change (Chart.js's canvases,
        # cleared by a resize until their next frame) was seen blank in a CI photo
        await self.evaluate(FRAMES)
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        return base64.b64decode(shot["data"])


FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def microphone_wav(source: Path, path: Path) -> Path:
    """`source` (any audio ffmpeg reads) as Chromium's fake microphone wants it: a 48 kHz mono WAV
    at `path`."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(source),
         "-ar", "48000", "-ac", "1", str(path)],
        check=True,
    )  # fmt: skip
    return path


def fake_microphone(wav: Path) -> tuple[str, ...]:
    """Chromium flags: a microphone that plays `wav` in a loop, permission granted unasked."""
    return (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )


async def _read_stderr(
    stream: trio.abc.ReceiveStream, tail: collections.deque[str], found: trio.MemorySendChannel[str]
) -> None:
    # Chromium logs to stderr for its whole life: keep draining it (a full pipe would block the
    # browser), remember the last lines for error messages, and report the DevTools URL once.
    buffer = b""
    async with found:
        async for chunk in stream:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace").strip()
                tail.append(line)
                if line.startswith(_LISTENING):
                    found.send_nowait(line.removeprefix(_LISTENING))


@asynccontextmanager
async def open_page(
    executable: str,
    profile_dir: Path,
    *,
    width: int = 1280,
    height: int = 1100,
    extra_args: tuple[str, ...] = (),
) -> AsyncIterator[Page]:
    """Start a headless Chromium with a throwaway profile; yield a tab; stop the browser.

    `extra_args` go before the start URL (e.g. `fake_microphone`'s flags).
    """
    argv = [
        executable,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",  # containers often give /dev/shm only 64 MB
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile_dir}",
        f"--window-size={width},{height}",
        *extra_args,
        "about:blank",
    ]
    tail: collections.deque[str] = collections.deque(maxlen=40)
    found_send, found_receive = trio.open_memory_channel[str](1)
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            partial(
                trio.run_process,
                argv,
                check=False,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        assert process.stderr is not None
        nursery.start_soon(_read_stderr, process.stderr, tail, found_send)
        try:
            url: str | None = None
            with trio.move_on_after(START_TIMEOUT_S), contextlib.suppress(trio.EndOfChannel):
                url = await found_receive.receive()
            if url is None:
                raise BrowserError(
                    f"Chromium gave no DevTools URL (exit {process.returncode}):\n"
                    + "\n".join(tail)
                )
            async with open_websocket_url(url, max_message_size=_MAX_MESSAGE) as ws:
                page = Page(ws, itertools.count(1))
                await page.attach()
                yield page
        finally:
            nursery.cancel_scope.cancel()  # run_process terminates Chromium if still running


# back on the sign-in form (`settle` waits for it to be parsed)
SIGNED_OUT = 'location.pathname === "/entrar"'


async def settle(page: Page, expression: str, timeout_s: float = 10.0) -> Any:
    """Poll `expression` until truthy (a DOM node counts) on a parsed document; a navigation in
    between is no error.

    At a navigation's commit the address is already the new page's while its body may be only
    partly parsed (seen in CI: a form's second field, a nav's links missing), so the expression
    is asked only once the document has left ``loading``.
    """
    with trio.fail_after(timeout_s):
        while True:
            try:
                # a DOM node comes back as {}: report it as found
                wrapped = (
                    'document.readyState !== "loading"'
                    f" && (v => v instanceof Node || v)({expression})"
                )
                if value := await page.evaluate(wrapped):
                    return value
            except BrowserError:
                pass  # the page was navigating
            await trio.sleep(0.1)


async def accessible(page: Page, where: str) -> None:
    """Fail when axe-core finds a problem on the page as it is now: WCAG 2.1 A and AA and axe's
    best practices (names for controls and table headers, list and landmark structure, contrast,
    ARIA used as allowed). `where` names the state in the failure."""
    if not await page.evaluate("typeof axe === 'object'"):
        await page.evaluate(AXE.read_text("utf-8"))
    found = await page.evaluate(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}})"
        ".then(r => r.violations.map(v => [v.id, v.impact, v.help,"
        " v.nodes.slice(0, 3).map(n => n.target.join(' '))]))"
    )
    assert found == [], (where, found)


async def photograph(page: Page, name: str) -> None:
    """Save the page as ``ARTIFACTS/<name>.png``, once `accessible` finds nothing wrong with it."""
    await accessible(page, name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = await page.screenshot()
    assert png.startswith(b"\x89PNG")
    (ARTIFACTS / f"{name}.png").write_bytes(png)


async def downloaded(folder: Path, suffix: str, timeout_s: float = 15.0) -> list[Path]:
    """The finished downloads ending in `suffix` in `folder`, once there is one (Chromium sends
    no event a test can wait on; a file still being written has a ``.crdownload`` name)."""
    with trio.fail_after(timeout_s):
        while True:
            if done := [f for f in await trio.Path(folder).iterdir() if f.suffix == suffix]:
                return [Path(f) for f in done]
            await trio.sleep(0.1)
