"""The quicker autoescape (blog.templating) and Vary helper (blog.htmx.add_vary) give what
markupsafe and Werkzeug give."""

import markupsafe
import pytest
from flask import Response
from jinja2 import Environment
from markupsafe import Markup

from blog import templating
from blog.htmx import add_vary


class Html:
    def __html__(self):
        return "<b>trusted</b>"

    def __repr__(self):  # a stable test id for every pytest-xdist worker
        return "Html()"


class Text(str):
    pass


VALUES = [
    "plain",
    "",
    "<script>alert('x') & \"y\"</script>",
    "ünïcode “quotes” & <tags>",
    Markup("<em>kept</em>"),
    Text("<sub>class</sub>"),
    Html(),
    12,
    3.5,
    None,
    ["<list>"],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escape_is_markupsafes_byte_for_byte(value):
    ours, theirs = templating.escape(value), markupsafe.escape(value)
    assert type(ours) is Markup and ours == theirs


def test_app_templates_escape_with_it_and_render_as_jinja_does(app):
    source = "{{ a }}|{{ b }}|{{ c }}|{{ d|safe }}|{% for x in e %}{{ x }}{% endfor %}"
    context = dict(a="<a href='x'>", b=Markup("<i>ok</i>"), c=7, d="<raw>", e=["<", Html()])
    template = app.jinja_env.from_string(source)
    assert template.root_render_func.__globals__["escape"] is templating.escape
    expected = Environment(autoescape=True).from_string(source).render(context)
    assert template.render(context) == expected
    assert "&lt;a href=&#39;x&#39;&gt;" in expected  # it does escape


@pytest.mark.parametrize(
    ("lines", "name", "expected"),
    [
        ([], "Cookie", ["Cookie"]),
        (["HX-Request"], "Cookie", ["HX-Request, Cookie"]),
        (["HX-Request, cookie"], "Cookie", ["HX-Request, cookie"]),
        (["Accept-Version", "Origin"], "Cookie", ["Accept-Version", "Origin", "Cookie"]),
        (["Accept-Version", "COOKIE"], "Cookie", ["Accept-Version", "COOKIE"]),
    ],
)
def test_add_vary_adds_a_request_header_once(lines, name, expected):
    response = Response("x")
    for line in lines:
        response.headers.add("Vary", line)
    add_vary(response, name)
    add_vary(response, name)
    assert response.headers.getlist("Vary") == expected
