"""A real browser opens the address `wxtui serve` prints, sees the followers, presses a key.

Needs Chromium from the OS packages (`apt-get install chromium`); .ci/run installs it. Without
it the test is skipped on a developer's machine and fails in CI (CI=true), so CI cannot go green
without having run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re

import pytest

pytest.importorskip("textual_serve")

from tests.headless_chromium import find_chromium, headless_chromium  # noqa: E402
from tests.serve_support import files_holding, isolated_env, wxtui_serve  # noqa: E402

CHROMIUM = find_chromium()
IN_CI = os.environ.get("CI") == "true"
if CHROMIUM is None and not IN_CI:
    pytest.skip("no Chromium here: `apt-get install chromium` to run the browser test",
                allow_module_level=True)

# textual-serve's page keeps its xterm.js terminal in a closure. Installed before the page's own
# scripts, this catches the object that holds it when its constructor sets `websocket_url`, so the
# test can read the terminal's screen: the text xterm.js has drawn on the canvas.
CATCH_THE_TERMINAL = """
Object.defineProperty(Object.prototype, "websocket_url", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "websocket_url", {value, writable: true, configurable: true, enumerable: true});
    window.__wxtuiTerminal = this;
  },
});
window.__wxtuiScreen = () => {
  const holder = window.__wxtuiTerminal;
  if (!holder || !holder.terminal) return "";
  const buffer = holder.terminal.buffer.active, lines = [];
  for (let y = 0; y < holder.terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
};
"""

OPENID = re.compile(r"\bo[A-Za-z0-9_-]{27}\b")


async def screen_until(page, predicate, what: str, *, timeout: float = 20.0) -> str:
    screen = ""
    try:
        async with asyncio.timeout(timeout):
            while not predicate(screen := await page.evaluate("window.__wxtuiScreen()") or ""):
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"the browser never showed {what}; its screen:\n{screen}") from None
    return screen


@contextlib.asynccontextmanager
async def another_site(port: int):
    """A page on another port of loopback that tries to open the app's socket."""
    from aiohttp import web

    page = f"""<!DOCTYPE html><script>
    window.socketOutcome = new Promise(resolve => {{
      const socket = new WebSocket("ws://127.0.0.1:{port}/ws");
      socket.onopen = () => resolve("open");
      socket.onclose = () => resolve("refused");
    }});
    </script>"""

    async def index(request):
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def screen_until_value(page, expression: str, *, timeout: float = 10.0):
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(RuntimeError):  # the page may still be loading
                value = await page.evaluate(expression)
                if value is not None:
                    return value
            await asyncio.sleep(0.1)


def test_a_browser_opens_the_printed_address_sees_the_followers_and_presses_a_key(tmp_path):
    if CHROMIUM is None:
        pytest.fail("CI has no Chromium for the browser test: .ci/run installs it with apt-get "
                    "(apt-get install chromium)")
    env = isolated_env(tmp_path / "run")
    with wxtui_serve(env, followers=300) as served:

        async def in_the_browser() -> None:
            async with headless_chromium(CHROMIUM) as page:
                await page.send("Page.enable")
                await page.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_THE_TERMINAL)
                await page.send("Page.navigate", url=served.address)

                table = await screen_until(
                    page, lambda s: "openid" in s and len(OPENID.findall(s)) >= 5,
                    "the member table with its followers")
                assert "Followers" in table
                # The token went into a cookie; the address bar no longer shows it.
                location = await page.evaluate("location.href")
                assert location == f"{served.origin}/" and served.token not in location
                assert await page.evaluate("document.cookie") == ""  # HttpOnly: not for scripts
                before = await page.screenshot(tmp_path / "table.png")

                await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
                await page.press("F1", "F1", 112)
                help_screen = await screen_until(page, lambda s: "Keys" in s and "Filter" in s,
                                                 "the help screen after F1")
                assert help_screen != table
                after = await page.screenshot(tmp_path / "help.png")
                assert after != before  # the pixels changed too, not only the terminal's text

                # Another page in the same browser, which holds the cookie now: its socket to
                # the app is refused (the cookie goes along: same host, so same site).
                async with another_site(served.port) as elsewhere:
                    await page.send("Page.navigate", url=elsewhere)
                    outcome = await screen_until_value(page, "window.socketOutcome")
                assert outcome == "refused"

        asyncio.run(in_the_browser())
    assert files_holding(tmp_path / "run", served.token) == []
