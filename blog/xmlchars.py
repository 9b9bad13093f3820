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
    data = response.get_data()
    if _may_hold_not_xml(data):
        text = data.decode()
        if NOT_XML.search(text):
            response.set_data(strip_not_xml(text))
    return response


# One byte-table pass over a UTF-8 body marks what may be a character XML forbids: the C0
# controls it forbids and DEL (one byte each, never part of another character's bytes), and
# EF, the first byte of U+F000-U+FFFF, among them U+FFFE and U+FFFF (EF BF BE / EF BF BF).
# Surrogates cannot be there: a str holding one does not encode to UTF-8 at all.
_SUSPECT = bytes(
    1 if byte in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xEF) else 0
    for byte in range(256)
)


def _may_hold_not_xml(data: bytes) -> bool:
    """Tell whether UTF-8 data may hold a character XML forbids: False for certain when no
    byte is suspect (a translate and a find, a fifth of decoding and a regex over the text);
    True sends the body to the exact check."""
    return data.translate(_SUSPECT).find(1) != -1


def init_app(app: Flask) -> None:
    """Strip forbidden characters on every flush and from every XML response."""
    if not event.contains(Session, "before_flush", _strip_before_flush):
        event.listen(Session, "before_flush", _strip_before_flush)
    app.after_request(_filter_xml)
