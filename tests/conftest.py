"""The suite's root: loads the fixture modules under tests/fixtures/ and names the helpers test
modules import from here (`from conftest import HX, form_token`)."""

import pytest

pytest.register_assert_rewrite("fixtures")  # before the import below, so their asserts explain

from fixtures.app import HX, PASSWORD, ROOT, form_token, free_port, make_config  # noqa: E402
from fixtures.mail import SmtpSink, received, received_mail  # noqa: E402

pytest_plugins = [
    "fixtures.app",
    "fixtures.databases",
    "fixtures.mail",
    "fixtures.factories",
    "fixtures.browser",
    "fixtures.ghost",
    "fixtures.safety",
    "fixtures.storage",
]

__all__ = [
    "HX",
    "PASSWORD",
    "ROOT",
    "SmtpSink",
    "form_token",
    "free_port",
    "make_config",
    "received",
    "received_mail",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives Chromium (asks for pytest-playwright's page) `browser`, and
    keep the tests that share one npm install of Ghost's client on one xdist worker."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "page" in fixtures and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        if "ghost_client" in fixtures:
            item.add_marker(pytest.mark.xdist_group("ghost_client"))
