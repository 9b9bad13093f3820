"""Static files: fingerprinted URLs cached for good, compressed, and the plain names kept."""

import gzip
import re

from blog import assets


def stylesheet_url(client) -> str:
    page = client.get("/")
    return re.search(r'<link rel="stylesheet" href="(/static/css/site\.[^"]+)"', page.text)[1]


def test_pages_link_fingerprinted_files_cached_for_good(client):
    url = stylesheet_url(client)
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url)
    response = client.get(url)
    assert response.status_code == 200 and response.data
    control = response.headers["Cache-Control"]
    assert "immutable" in control and "max-age=315360000" in control and "public" in control
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "text/css"
    script = re.search(r'<script src="(/static/vendor/htmx[^"]+)"', client.get("/").text)[1]
    assert assets.FINGERPRINTED.search(script)
    assert client.get(script).status_code == 200


def test_fingerprinted_files_are_sent_compressed_to_browsers_that_accept_it(client, app):
    url = stylesheet_url(client)
    plain = client.get(url).data
    packed = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain) and gzip.decompress(packed.data) == plain
    assert plain == open(f"{app.static_folder}/css/site.css", "rb").read()


def test_plain_names_still_work_with_a_short_lifetime(client):
    response = client.get("/static/demo/atlas.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "immutable" not in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]  # an SVG runs nothing


def test_a_changed_file_gets_a_new_name(tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: red; }")
    first = assets.build(source, tmp_path / "built")["css/site.css"]
    (source / "css" / "site.css").write_text("body { color: blue; }")
    second = assets.build(source, tmp_path / "built")["css/site.css"]
    assert first != second
    assert (tmp_path / "built" / second).read_text() == "body { color: blue; }"
    assert (tmp_path / "built" / "css" / "site.css").read_text() == "body { color: blue; }"
    packed = (tmp_path / "built" / f"{second}.gz").read_bytes()
    assert gzip.decompress(packed) == b"body { color: blue; }"
