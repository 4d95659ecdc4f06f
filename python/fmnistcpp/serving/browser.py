"""Debian's headless Chromium driven by Selenium: the browser test and the screenshot.

Needs the ``chromium`` and ``chromium-driver`` packages and ``selenium``
(``.ci/run`` installs all three). Both paths are given to Selenium, so it
never tries to download a driver or a browser (there is no network).
"""

from __future__ import annotations

import contextlib
import shutil

__all__ = ["chromium", "CHROMIUM", "CHROMEDRIVER"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextlib.contextmanager
def chromium(width: int = 1100, height: int = 1000):
    """A headless Chromium WebDriver with a ``width`` x ``height`` window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
