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
