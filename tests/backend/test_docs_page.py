"""The docs page works with no internet: Swagger UI comes from the service itself, under a strict CSP.

The browser test drives headless Chromium (Debian's `chromium` and `chromium-driver`; .ci/run installs
them) against a live server on 127.0.0.1: it logs in, opens /api/docs/ and finds every operation of the
committed schema rendered, with nothing loaded from elsewhere and no console error.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from django.test import Client

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "correct horse battery staple"
SWAGGER = "/static/drf_spectacular_sidecar/swagger-ui-dist/"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the committed schema (a test keeps it equal to the live one)."""
    schema = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item if method in METHODS}


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.fixture
def reader(db):
    return UserFactory(username="docs_reader")


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "logged_in"), [("/api/docs/", True), ("/admin/login/", False),
                                                 ("/api/auth/login/", False)])
def test_docs_and_admin_pages_carry_a_strict_content_security_policy(reader, path, logged_in):
    client = Client()
    if logged_in:
        client.force_login(reader)

    response = client.get(path)

    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no CDN
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]


@pytest.mark.django_db
def test_the_docs_page_names_only_its_own_assets_and_runs_no_inline_script(reader):
    client = Client()
    client.force_login(reader)

    page = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=")

    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(sources) == sorted([
        f"{SWAGGER}favicon-32x32.png", f"{SWAGGER}swagger-ui.css", f"{SWAGGER}swagger-ui-bundle.js",
        f"{SWAGGER}swagger-ui-standalone-preset.js", "/api/docs/?script=",
    ])
    assert re.findall(r"<script>", page) == []
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b'"validatorUrl": null' in script.content  # no badge asking an outside validator


def test_the_docs_page_asks_for_a_login():
    response = Client().get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"] == "/api/auth/login/?next=/api/docs/"


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture
def chromium(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                     "--window-size=1280,1024"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER,
                                                               log_output=str(tmp_path / "chromedriver.log")))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.browser
# The live server's thread needs committed rows; serialized_rollback restores what the migrations wrote
# (content types, default escalation policies) for the transactional tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_swagger_ui_renders_every_operation_offline(live_server, chromium, reader, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait


    started = time.monotonic()
    expected = _operations()

    chromium.get(f"{live_server.url}/api/docs/")  # not logged in: the login page, with next=/api/docs/
    chromium.find_element(By.NAME, "username").send_keys(reader.username)
    chromium.find_element(By.NAME, "password").send_keys(PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
    # Swagger UI renders a long list of operations virtually (only those near the view are in the page), so
    # the page is scrolled from top to bottom and every operation rendered on the way is collected.
    def blocks_now() -> set[tuple[str, str]]:
        found = set()
        for block in chromium.find_elements(By.CSS_SELECTOR, ".opblock"):
            try:
                found.add((block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                           block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")))
            except StaleElementReferenceException:
                continue  # scrolled out of the page between the two look-ups: seen again on the next pass
        return found

    try:
        WebDriverWait(chromium, 60).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock"))
    except Exception:
        chromium.save_screenshot(str(tmp_path / "docs.png"))
        raise AssertionError(f"Swagger UI did not render; screenshot at {tmp_path / 'docs.png'}") from None
    WebDriverWait(chromium, 10).until(ready.url_to_be(f"{live_server.url}/api/docs/"))
    rendered: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        rendered |= blocks_now()
        at_bottom = chromium.execute_script(
            "const before = window.scrollY; window.scrollBy(0, window.innerHeight / 2);"
            "return window.scrollY === before;")
        time.sleep(0.2)
        if at_bottom and rendered >= expected:
            break
        if at_bottom:  # the last screen was not rendered yet when read: another pass from the top
            chromium.execute_script("window.scrollTo(0, 0);")
    if rendered != expected:
        chromium.save_screenshot(str(tmp_path / "docs.png"))
    resources = chromium.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    # The login page (DRF's) names no icon, so the browser asks for /favicon.ico once; anything else counts.
    problems = [entry["message"] for entry in chromium.get_log("browser")
                if entry["level"] in ("SEVERE", "WARNING") and "/favicon.ico " not in entry["message"]]

    assert rendered == expected
    assert chromium.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("Mimamori case coordination API")
    assert resources and all(name.startswith(f"{live_server.url}/") for name in resources), resources
    assert problems == []  # no CSP violation, no failed load
    print(f"\nbrowser test: {len(rendered)} operations rendered in {time.monotonic() - started:.1f} s")
