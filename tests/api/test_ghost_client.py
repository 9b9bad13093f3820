"""Ghost's own npm client, @tryghost/content-api, browses, reads, filters and pages through our
Content API on a live server without an error. On SQLite and PostgreSQL.

The client is installed with npm into a throw-away folder once per test run (a network install
from the npm registry); the script that drives it is tests/ghost_client/client.cjs.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from blog.extensions import db

CLIENT_PACKAGE = "@tryghost/content-api@1.12.12"
pytestmark = pytest.mark.slow  # npm installs the client, node runs it
SCRIPT = Path(__file__).resolve().parent / "ghost_client" / "client.cjs"


@pytest.fixture(scope="session")
def ghost_client(tmp_path_factory) -> Path:
    """A folder holding client.cjs and node_modules/@tryghost/content-api."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        reason = "node and npm are needed for Ghost's client (apt-get install nodejs npm)"
        if os.environ.get("BLOG_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("ghost-client")
    (folder / "package.json").write_text('{"name": "ghost-client-test", "private": true}')
    install = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", CLIENT_PACKAGE],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stderr
    shutil.copy(SCRIPT, folder / "client.cjs")
    return folder


def run_client(folder: Path, url: str, key: str) -> dict:
    env = {
        key_: value
        for key_, value in os.environ.items()
        if key_.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(GHOST_URL=url, GHOST_KEY=key, NO_PROXY="127.0.0.1,localhost")
    done = subprocess.run(
        ["node", "client.cjs"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ghosts_npm_client_reads_the_api(ghost_client, live_server, make_user, make_tag, make_post):
    from datetime import timedelta

    from blog.api.keys import create_integration
    from blog.models import utcnow

    ada = make_user(name="Ada", slug="ada", email="ada@example.com")
    bob = make_user(name="Bob", slug="bob", email="bob@example.com")
    news, guides = make_tag("News"), make_tag("Guides")
    now, hour = utcnow().replace(microsecond=0), timedelta(hours=1)
    make_post("First", slug="first", authors=[ada], tags=[news], published_at=now - 3 * hour)
    make_post(
        "Second",
        slug="second",
        body="Second **body**.",
        authors=[bob, ada],
        tags=[guides, news],
        featured=True,
        published_at=now - 2 * hour,
    )
    make_post("Third", slug="third", authors=[ada], published_at=now - hour)
    make_post("About", slug="about", type="page", authors=[ada])
    make_post("Draft", slug="draft", status="draft", authors=[bob])
    key = create_integration("npm client").content_key
    db.session.commit()
    db.session.remove()

    got = run_client(ghost_client, live_server, key)

    assert got["page1"]["slugs"] == ["third", "second"]
    assert got["page1"]["pagination"] == {
        "page": 1,
        "limit": 2,
        "pages": 2,
        "total": 3,
        "next": 2,
        "prev": None,
    }
    assert got["page1"]["primaryAuthor"] == "ada"
    assert got["page1"]["tags"] == [[], ["guides", "news"]]
    assert got["page2"]["slugs"] == ["first"] and got["page2"]["pagination"]["prev"] == 1
    assert [p["slug"] for p in got["all"]] == ["third", "second", "first"]
    assert all(len(p["id"]) == 24 for p in got["all"])
    assert got["all"][0]["url"] == "http://localhost/third/"
    # A read comes back as one object, not a list.
    assert got["bySlug"]["isArray"] is False and got["bySlug"]["slug"] == "second"
    assert "<strong>body</strong>" in got["bySlug"]["html"]
    assert got["bySlug"]["plaintext"].startswith("Second body")
    assert got["byId"] == {"slug": "third", "id": got["all"][0]["id"]}
    assert got["filtered"] == ["second", "first"]
    assert got["listFilter"] == ["third", "first"]
    assert got["negated"] == ["third"]
    assert got["primaryTag"] == ["second"]
    assert got["featured"] == ["second"]
    assert got["after"] == ["third"]
    assert got["pages"] == ["about"] and got["page"] == "About"
    assert got["tags"] == [{"slug": "guides", "posts": 1}, {"slug": "news", "posts": 2}]
    assert got["tag"] == "News"
    assert got["authors"] == [
        {"slug": "ada", "posts": 3, "hasEmail": False},
        {"slug": "bob", "posts": 1, "hasEmail": False},
    ]
    assert got["author"] == "Ada"
    assert got["settings"] == {"title": "Test Blog", "url": "http://localhost/"}
    # Errors reach the client as Ghost's: it names them by their type.
    assert got["notFound"] == {
        "name": "NotFoundError",
        "type": "NotFoundError",
        "message": "Post not found.",
        "status": 404,
    }
    assert got["badFilter"]["type"] == "BadRequestError" and got["badFilter"]["status"] == 400
    assert got["draft"]["status"] == 404
    assert got["acceptVersion"] == 1
    assert got["wrongKey"]["type"] == "UnauthorizedError" and got["wrongKey"]["status"] == 401
