"""A message encoded once and stamped out for each recipient.

The copies of a newsletter issue differ only in a few headers (To, Message-ID, Date,
List-Unsubscribe) and in the lines of the body that hold the reader's own unsubscribe link.
A Stencil is made from one Message whose per-recipient values are marks (mark(name)); each
copy then folds only its own headers and quoted-printable encodes only the lines holding a
mark, where Message.as_bytes() would fold every header and encode both bodies again: most of
a newsletter mail's cost (docs/benchmarks-newsletter.md). A copy's bytes are those of the
Message with the same values (tests/mail/test_mail_stencil.py compares them), so what a
reader gets does not depend on which way it was built.

Quoted-printable encodes each line on its own (RFC 2045 section 6.7: soft breaks never join
lines; email.quoprimime.body_encode), which is what lets the unchanged lines be kept encoded.
"""

from __future__ import annotations

import re
import uuid
from email import quoprimime

from markupsafe import escape

from blog.mail.message import SMTP_LINES, Message, check_header, header_value, mime

_PROCESS = uuid.uuid4().hex[:16]
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends quoted-printable encoding splits on
_PLAIN_HEADER = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, one space apart


def mark(name: str) -> str:
    """Return the stand-in for the per-recipient value `name` ([a-z_]) in a stencil's message:
    letters and digits only, so templates, HTML escaping and address parsing keep it whole."""
    return f"stencilslot{name.replace('_', '')}x{_PROCESS}"


def _folded(name: str, value) -> bytes:
    """Return the header line "Name: value\r\n" as Message folds it (the classic policy).

    A one-word-spaced ASCII value that fits on the line comes out as it is, so it is written
    directly; anything else (long, encoded, odd spacing) goes through the email package.
    """
    if (
        isinstance(value, str)
        and len(name) + 2 + len(value) <= 78
        and _PLAIN_HEADER.fullmatch(value)
    ):
        return f"{name}: {value}\r\n".encode("ascii")
    return SMTP_LINES.fold_binary(name, value)


def _encoded(line: str) -> bytes:
    """Return one line (no line break) quoted-printable encoded as Message does: its UTF-8
    bytes, soft-broken under 76 characters with SMTP's CRLF (email.charset.Charset)."""
    return quoprimime.body_encode(line.encode().decode("latin-1"), eol="\r\n").encode("ascii")


class Stencil:
    """One message, encoded but for the parts that hold a per-recipient value.

    template: a Message whose per-recipient values are mark(name) for each name in slots, as
    they are (a template filter applied to a mark would hide it); in the HTML they are
    replaced HTML-escaped, as Jinja's autoescape would have written them.
    """

    def __init__(self, template: Message, slots: list[str]) -> None:
        self.template = template
        self.marks = {mark(name): name for name in slots}
        self._mark = re.compile("|".join(self.marks))
        self.boundary = f"=={uuid.uuid4().hex}"
        self.bodies = {"text": self._lines(template.body or ""), "html": None}
        if template.html:
            self.bodies["html"] = self._lines(template.html)
        self.pieces = self._skeleton()

    def _lines(self, body: str) -> list[bytes | str]:
        """Split a body into runs of encoded lines (bytes) and lines holding a mark (str)."""
        runs: list[bytes | str] = []
        for line in _LINE_BREAK.split(body):
            if self._mark.search(line):
                runs.append(line)
            elif runs and isinstance(runs[-1], bytes):
                runs[-1] += b"\r\n" + _encoded(line)
            else:
                runs.append(_encoded(line))
        return runs

    def _skeleton(self) -> list[bytes | str]:
        """Return the message's bytes as pieces: bytes as they are sent, or the name of a
        per-recipient header ("Date" and those holding a mark) or of a body ("text", "html")."""
        holes = {}
        headers = {}
        for number, (name, value) in enumerate(self.template.header_values().items()):
            if value and (name == "Date" or self._mark.search(value)):
                hole = f"stencilhole{number}x{_PROCESS}"
                holes[hole], value = name, hole
            headers[name] = value
        text, html = (f"stencilbody{kind}x{_PROCESS}" for kind in ("text", "html"))
        holes.update({text: "text", html: "html"})
        skeleton = mime(text, html if self.bodies["html"] else None, headers, self.boundary)
        raw = skeleton.as_bytes()
        pieces: list[bytes | str] = []
        done = 0
        for found in re.finditer("|".join(holes).encode(), raw):
            start, end, name = found.start(), found.end(), holes[found[0].decode()]
            if name not in ("text", "html"):  # the whole header line: "Name: hole\r\n"
                line = raw.rfind(b"\r\n", 0, start)
                start, end = (line + 2 if line >= 0 else 0), end + 2
            pieces += [raw[done:start], name]
            done = end
        return [*pieces, raw[done:]]

    def fill(self, text: str | None, values: dict[str, str]) -> str | None:
        """Return text with each mark replaced by its value (values: mark -> value)."""
        return text and self._mark.sub(lambda found: values[found[0]], text)

    def stamp(self, **values: str) -> Copy:
        """Return the copy with values (one per slot name) in place of the marks.

        Raises ValueError for a value with CR or LF in it (it could end up in a header), and
        KeyError for a slot without a value.
        """
        for name, value in values.items():
            check_header(name, value)
        by_mark = {found: values[name] for found, name in self.marks.items()}
        copy = Copy.__new__(Copy)
        # Flask-Mail's own fields, copied rather than set by its __init__, which looks up this
        # host's name (socket.getfqdn(), a resolver call) for a Message-ID never used.
        copy.__dict__.update(self.template.__dict__)
        copy.stencil, copy.values = self, by_mark
        copy.recipients = [self.fill(to, by_mark) for to in self.template.recipients]
        for field in ("subject", "sender", "reply_to", "msgId"):
            setattr(copy, field, self.fill(getattr(self.template, field), by_mark))
        extra = self.template.extra_headers or {}
        copy.extra_headers = {name: self.fill(value, by_mark) for name, value in extra.items()}
        copy.date = None
        return copy


class Copy(Message):
    """One recipient's copy of a Stencil's message, sent by Flask-Mail like any Message."""

    stencil: Stencil
    values: dict[str, str]  # mark -> this recipient's value

    @property
    def body(self) -> str | None:
        return self.stencil.fill(self.stencil.template.body, self.values)

    @property
    def html(self) -> str | None:
        return self.stencil.fill(self.stencil.template.html, self._escaped())

    def _escaped(self) -> dict[str, str]:
        return {found: str(escape(value)) for found, value in self.values.items()}

    def as_bytes(self) -> bytes:
        """Return the message as sent: the stencil's bytes with this copy's headers and lines."""
        headers = self.header_values()
        values = {"text": self.values, "html": self._escaped()}
        out = []
        for piece in self.stencil.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            elif piece in values:
                runs = self.stencil.bodies[piece]
                fill = self.stencil.fill
                out.append(
                    b"\r\n".join(
                        run if isinstance(run, bytes) else _encoded(fill(run, values[piece]))
                        for run in runs
                    )
                )
            elif value := headers.get(piece):
                out.append(_folded(piece, header_value(piece, value)))
        return b"".join(out)
