"""Fixtures for the Ghost tests: running the import command, and a Content API key."""

import pytest

from blog.extensions import db


@pytest.fixture
def import_ghost(app, runner):
    """Run `flask import-ghost FILE`; return the click Result (asserts it succeeded unless told)."""

    def run(path, ok: bool = True, *args):
        db.session.rollback()  # a read by the test would hold SQLite's write lock
        result = runner.invoke(args=["import-ghost", str(path), *args])
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        db.session.rollback()
        return result

    return run


@pytest.fixture
def content_key(app):
    """A Content API key of a fresh integration."""
    from blog.api.keys import create_integration

    key = create_integration("Test client").content_key
    db.session.commit()
    return key
