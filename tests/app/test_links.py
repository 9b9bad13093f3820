"""URLs a page builds are remembered per worker (blog.links) and are the ones Flask builds."""

import pytest
from werkzeug.routing import BuildError

from blog import links

CASES = [
    ("posts.index", {}),
    ("posts.index", {"number": 3}),
    ("posts.index", {"number": 2, "after": "20261128T093000.000000_42"}),
    ("posts.tag", {"slug": "travel", "number": 2}),
    ("authors.author", {"slug": "ada"}),
    ("authors.login", {"next": "/admin/posts/?q=a b&x=ü"}),
    ("static", {"filename": "css/site.css"}),
    ("posts.search", {"q": ["two", "values"]}),  # a list: no key, built each time
]


@pytest.mark.parametrize("endpoint, values", CASES)
def test_a_remembered_url_is_the_one_flask_builds(app, endpoint, values):
    built = []

    def build(endpoint, **values):
        built.append(endpoint)
        return original(endpoint, **values)

    def original(endpoint, **values):  # Flask's own, under the app's remembering one
        return type(app).url_for(app, endpoint, **values)

    remembered = links.remembering(build)
    with app.test_request_context("/", base_url="https://blog.example/sub"):
        first, second = remembered(endpoint, **values), remembered(endpoint, **values)
        assert first == second == original(endpoint, **values)
        assert first.startswith("/sub/")
    assert len(built) == (2 if isinstance(values.get("q"), list) else 1)


def test_external_urls_and_unknown_endpoints_are_never_kept(app):
    with app.test_request_context("/", base_url="https://blog.example"):
        assert app.url_for("posts.index", _external=True) == "https://blog.example/"
    with app.test_request_context("/", base_url="https://other.example"):
        assert app.url_for("posts.index", _external=True) == "https://other.example/"
        for _ in range(2):
            with pytest.raises(BuildError):
                app.url_for("posts.nothing_here", number=1)


def test_each_script_root_gets_its_own_urls(app):
    with app.test_request_context("/", base_url="https://blog.example/one"):
        assert app.url_for("posts.index", number=2) == "/one/page/2/"
    with app.test_request_context("/", base_url="https://blog.example/two"):
        assert app.url_for("posts.index", number=2) == "/two/page/2/"
