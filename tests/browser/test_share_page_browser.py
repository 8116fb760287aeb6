"""The share page in real Chromium: share.js runs under the strict CSP, and the docs'
screenshot script works."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.support.services import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url):
    """Browser tests exercise pages, not storage: SQLite only, once."""
    return sqlite_url


def load_screenshots_module():
    spec = importlib.util.spec_from_file_location(
        "docs_screenshots", ROOT / "docs" / "screenshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.chromium_path() is None:
        service_unavailable("Chromium is not installed at /usr/bin/chromium")
    return module


def test_share_script_reveals_the_copy_button_under_csp(live_url, make_product, make_token):
    screenshots = load_screenshots_module()
    token = make_token(make_product(name="Mug </script> ☕"))
    dom = screenshots.chromium("--dump-dom", f"{live_url}/p/{token}?ref=friend").stdout
    soup = BeautifulSoup(dom, "html5lib")
    button = soup.find("button", class_="share-button")
    assert not button.has_attr("hidden")  # share.js ran: the CSP allowed it
    assert button.get_text() in ("Share", "Copy link")
    assert soup.find("h1", class_="product-name").get_text() == "Mug </script> ☕"
    assert soup.find("buy-button").find("a")["href"].endswith(f"/buy/{token}?ref=friend")


def test_docs_screenshot_script_writes_the_pictures(tmp_path):
    from PIL import Image

    screenshots = load_screenshots_module()
    written = screenshots.main(tmp_path)
    sizes = {path.name: Image.open(path).size for path in written}
    assert sizes == {
        "share-page-phone.png": (390, 1000),
        "share-page-desktop.png": (1200, 900),
        "share-card.png": (1200, 630),
    }
