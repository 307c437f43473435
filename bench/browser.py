"""The one way the benchmarks and the tests start a browser: Debian's Chromium, headless,
driven by Playwright (which never downloads a browser of its own here)."""

from __future__ import annotations

import contextlib

CHROMIUM = "/usr/bin/chromium"
# No sandbox or GPU in CI containers; nothing that reaches out (updates, sync, first-run
# pages); media plays without a click and without sound, so tests can start the player.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"]


@contextlib.contextmanager
def chromium():
    """A running headless Chromium for the length of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
