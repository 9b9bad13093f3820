"""Characters XML 1.0 forbids: dropped from everything stored, and from every XML response.

XML 1.0 (https://www.w3.org/TR/xml/#charsets) allows TAB, LF, CR, U+0020-U+D7FF,
U+E000-U+FFFD and U+10000-U+10FFFF. One U+FFFF in a title made /rss/ not well-formed, and a
feed reader then shows nothing at all. So:

- every string a model stores loses the forbidden characters on flush (forms, the CLI and
  importers alike; forms also drop them while reading, see blog.authors.forms.clean), and
- every XML response (feeds, sitemaps) is filtered again on the way out, for rows stored
  before this rule or written around the ORM.

DEL (U+007F) is allowed by XML but invisible; it goes too, as it always has from forms.
"""

from __future__ import annotations

import re

from flask import Flask, Response
from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

# C0 controls but TAB, LF and CR; DEL; lone surrogates; the non-characters U+FFFE and U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
XML_MIMETYPES = ("application/xml", "text/xml", "application/rss+xml", "application/atom+xml")


def strip_not_xml(text: str) -> str:
    """Return text without the characters XML 1.0 forbids (and DEL); other text is unchanged."""
    return NOT_XML.sub("", text)


def _strip_before_flush(session: Session, flush_context, instances) -> None:
    """Drop forbidden characters from every string column of every new or changed row."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for prop in state.mapper.column_attrs:
            if not isinstance(prop.columns[0].type, String):  # Text is a String too
                continue
            value = state.dict.get(prop.key)  # loaded values only: no query during a flush
            if isinstance(value, str) and NOT_XML.search(value):
                setattr(obj, prop.key, strip_not_xml(value))


CLEAN = "xml_already_clean"  # a response attribute: its body went through strip_not_xml


def clean_xml_response(body: str, headers: dict) -> Response:
    """Return a Response of an XML body that strip_not_xml has already cleaned, which the
    after-request filter then leaves alone (no decode and scan of every byte again)."""
    response = Response(body, 200, headers)
    setattr(response, CLEAN, True)
    return response


def _filter_xml(response: Response) -> Response:
    """Drop forbidden characters from an XML response, so it stays well-formed."""
    if response.mimetype not in XML_MIMETYPES or response.is_streamed:
        return response
    if getattr(response, CLEAN, False):  # cleaned once when it was built (kept sitemaps)
        return response
    body = response.get_data(as_text=True)
    if NOT_XML.search(body):
        response.set_data(strip_not_xml(body))
    return response


def init_app(app: Flask) -> None:
    """Strip forbidden characters on every flush and from every XML response."""
    if not event.contains(Session, "before_flush", _strip_before_flush):
        event.listen(Session, "before_flush", _strip_before_flush)
    app.after_request(_filter_xml)
