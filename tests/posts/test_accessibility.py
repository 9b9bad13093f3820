"""Accessibility and validity of the reader pages: axe-core in Chromium, light and dark, and the
Nu HTML checker over the same pages rendered by the test client."""

import re
import subprocess

import pytest

from fixtures.checks import AXE_RUN, AXE_SOURCE, BLOCKING, format_violations, validator_command

BODY = """Markdown with the parts a post usually has.

## A section

A paragraph with a [link to somewhere](https://example.com/) and some `inline code`.

- one point
- another point

> A quotation that stands apart.

```python
print("hello")
```

| column | value |
| --- | --- |
| a | 1 |
"""


@pytest.fixture
def reader_site(make_user, make_tag, make_post):
    """A few posts (more than one page) with authors, tags and feature images; return paths."""
    ada = make_user(
        name="Ada Okafor",
        slug="ada",
        bio="Writes about cities, maps and the people who draw them.",
        profile_image="/static/demo/avatar-ada.svg",
        website="https://example.com/ada",
    )
    mei = make_user(name="Mei Tanaka", slug="mei", profile_image="/static/demo/avatar-mei.svg")
    cities = make_tag("Cities", description="Streets, maps and how places change.")
    books = make_tag("Books")
    images = ["harbour", "meadow", "dusk", "orchard", "tide", "ridge", "lantern"]
    posts = [
        make_post(
            title=f"Notes on city maps {n}",
            body=BODY,
            authors=[ada, mei] if n % 3 == 0 else [ada],
            tags=[cities, books] if n % 2 else [cities],
            feature_image=f"/static/demo/{image}.svg",
            feature_image_alt=f"An abstract picture called {image}",
            featured=n == 0,
        )
        for n, image in enumerate(images)
    ]
    make_post(title="About us", slug="about", type="page", authors=[ada])
    return {
        "home": "/",
        "post": posts[0].url,
        "author": ada.url,
        "tag": cities.url,
        "page-2": "/page/2/",
        "about": "/about/",
        "not-found": "/no-such-post/",
    }


# --- axe-core in Chromium --------------------------------------------------------------------

AXE_PAGES = ["home", "post", "author", "tag", "not-found"]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(page, live_server, reader_site, scheme):
    axe = AXE_SOURCE.read_text()
    page.emulate_media(color_scheme=scheme)
    failures = []
    for name in AXE_PAGES:
        response = page.goto(live_server + reader_site[name])
        assert response.status == (404 if name == "not-found" else 200), name
        # The site's CSP forbids inline scripts, so add_script_tag fails; evaluate is exempt.
        page.evaluate(axe)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
            scheme == "dark"
        )
        blocking = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
        if blocking:
            where = f"{name} ({reader_site[name]}), {scheme}"
            failures.append(f"{where}:\n{format_violations(blocking)}")
    assert not failures, "\n\n".join(failures)


# --- Nu HTML checker -------------------------------------------------------------------------


def test_pages_are_valid_html(client, reader_site, tmp_path):
    command = validator_command()
    folder = tmp_path / "pages"
    folder.mkdir()
    files = []
    for name, path in reader_site.items():
        response = client.get(path)
        assert response.status_code == (404 if name == "not-found" else 200), path
        target = folder / f"{name}.html"
        target.write_bytes(response.data)
        files.append(str(target))
    # One JVM start for every file; htmx's hx-* attributes are the only errors ignored.
    result = subprocess.run(
        [*command, "--ignore-re", "Attribute .hx-", "--", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = (result.stdout + result.stderr).strip()
    errors = [line for line in report.splitlines() if re.search(r":\s*error:", line)]
    assert result.returncode == 0 and not errors, report
