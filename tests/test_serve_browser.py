"""A real browser opens the address `wxtui serve` prints, sees the followers, presses a key.

Needs Chromium from the OS packages (`apt-get install chromium`); .ci/run installs it. Without
it the test is skipped on a developer's machine and fails in CI (CI=true), so CI cannot go green
without having run it.
"""

from __future__ import annotations

import asyncio
import os
import re

import pytest

pytest.importorskip("textual_serve")

from tests.headless_chromium import find_chromium, headless_chromium  # noqa: E402
from tests.serve_support import isolated_env, wxtui_serve  # noqa: E402

CHROMIUM = find_chromium()
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("the browser test needs Chromium in CI: .ci/run should have installed it "
                           "(apt-get install chromium)")
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


def test_a_browser_opens_the_printed_address_sees_the_followers_and_presses_a_key(tmp_path):
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

        asyncio.run(in_the_browser())
