"""The quicker autoescape (blog.templating) and Vary helper (blog.htmx.add_vary) give what
markupsafe and Werkzeug give."""

import markupsafe
import pytest
from flask import Flask, Response
from jinja2 import DictLoader, Environment
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


# Templates whose output runs mix text, values, filters, conditions and loops, in each place
# Jinja writes output: a plain template, blocks under extends (and text outside a block, which
# an extending template never shows), macros, call blocks, filter blocks and set blocks.
TEMPLATES = {
    "base.html": "<h1>{{ title }}</h1>{% block body %}<p>{{ a }} & {{ b|upper }}</p>{% endblock %}"
    "<footer>{{ a }}{{ b }}</footer>",
    "child.html": "{% extends 'base.html' %}never {{ a }}{% block body %}[{{ super() }}]"
    "{% for x in items %}<li>{{ loop.index }}:{{ x }}{% if loop.last %}.{% endif %}</li>"
    "{% else %}none{% endfor %}{% endblock %}",
    "lib.html": "{% macro card(t) %}<a>{{ t }}</a>{{ caller() if caller else '' }}{% endmacro %}",
    "macros.html": "{% from 'lib.html' import card %}{{ card(a) }}{% call card(b) %}in {{ a }}{% endcall %}"
    "{% filter upper %}up {{ a }}{% endfilter %}{% set s %}set {{ b }}{% endset %}{{ s }}|{{ s }}",
    "include.html": "{% for x in items %}{% include 'base.html' %}{% endfor %}{{ a ~ b }}",
    "dynamic.html": "{% if a %}{% extends 'base.html' %}{% endif %}shown {{ a }} when not extending",
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("a", ["", "<i>x</i>", Markup("<b>y</b>")])
def test_yielding_each_output_run_whole_renders_what_jinja_renders(name, a):
    """blog.templating.BlogCodeGenerator joins each run of text and values into one yield:
    every template renders to exactly what Jinja's own code generator renders."""
    context = {"title": "T & t", "a": a, "b": "'q\"", "items": ["1", "<2>"]}
    ours = templating.BlogEnvironment(
        Flask(__name__), loader=DictLoader(TEMPLATES), autoescape=True
    )
    jinjas = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    assert ours.code_generator_class is templating.BlogCodeGenerator
    expected = jinjas.get_template(name).render(context)
    assert ours.get_template(name).render(context) == expected
    assert "".join(ours.get_template(name).generate(context)) == expected


def test_a_card_list_is_yielded_in_a_few_pieces():
    """A run of text and values is one piece, not one per value (why the generator exists)."""
    source = "{% for x in items %}<li class='{{ x }}'>{{ x }} / {{ x|length }}</li>{% endfor %}"
    ours = templating.BlogEnvironment(Flask(__name__), autoescape=True).from_string(source)
    jinjas = Environment(autoescape=True).from_string(source)
    items = {"items": ["a", "b", "c"]}
    assert len(list(ours.generate(items))) == 3
    assert len(list(jinjas.generate(items))) == 21
