"""The browser the console tests drive is Debian's chromium, launched headless by Playwright."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.integration.console.conftest import CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration


def test_chromium_is_the_debian_build(browser: Browser) -> None:
    assert CHROMIUM.exists()
    assert browser.version.split(".")[0].isdigit()


def test_a_page_renders_and_runs_script(page: Page) -> None:
    page.set_content("<p id='x'>before</p><script>document.getElementById('x').textContent='after'</script>")
    assert page.text_content("#x") == "after"
