"""Ghost's filter language (NQL), the part its Content API clients use, parsed into a tree.

Grammar (after @tryghost/nql-lang, github.com/TryGhost/NQL):

    filter     := or
    or         := and ("," and)*                 a,b      either
    and        := term ("+" term)*               a+b      both
    term       := "(" or ")" | property ":" op? values
    op         := "-" (not) | ">" | "<" | ">=" | "<=" | "~" (contains) | "~^" (starts)
                  | "~$" (ends), and "-" before "~", "~^" or "~$"
    values     := "[" value ("," value)* "]" | value
    value      := 'quoted \\' text' | null | true | false | number | literal

`tag:news+featured:true`, `tag:-[a,b]`, `published_at:>'2017-09-01 12:00:00'`,
`slug:[a,b],author:joe`. Clients URL-encode the filter, so `+` arrives as `%2B` and a raw `+`
(a space once decoded) is taken as `+` too, as Ghost does.

parse() returns nested tuples: ("or", [..]), ("and", [..]) and
("compare", property, operator, value, negated), where value is a list for `[..]`.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<quoted>'(?:[^'\\]|\\.)*')
    | (?P<punct>>=|<=|~\^|~\$|[(),+\[\]:><~-])
    | (?P<literal>[^\s'"+,()\[\]:><~]+)
    )""",
    re.VERBOSE,
)
PROPERTY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.]*")
MAX_LENGTH = 2000
MAX_DEPTH = 20


class FilterError(ValueError):
    """The filter cannot be parsed; the message says where and why."""


class Null:
    """NQL's null literal (a distinct value, so the string 'null' can still be quoted)."""

    def __repr__(self) -> str:
        return "null"


NULL = Null()


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split text into tokens. White space between two terms stands for "+": a client that
    sends `+` unencoded has it decoded to a space."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"Unexpected character {text[position]!r} at position {position}")
        kind = match.lastgroup or ""
        spaced = match.start(kind) > position
        ends_term = tokens and (tokens[-1][0] in ("literal", "quoted") or tokens[-1][1] in ")]")
        starts_term = kind == "literal" or match[kind] == "("
        if spaced and ends_term and starts_term:
            tokens.append(("punct", "+"))
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError(
                "Unexpected end of filter" + (f", expected {value!r}" if value else "")
            )
        if value is not None and token != ("punct", value):
            raise FilterError(f"Expected {value!r} but found {token[1]!r}")
        self.at += 1
        return token

    def parse(self):
        tree = self.either()
        if self.peek() is not None:
            raise FilterError(f"Unexpected {self.peek()[1]!r}")
        return tree

    def either(self):
        parts = [self.both()]
        while self.peek() == ("punct", ","):
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def both(self):
        parts = [self.term()]
        while self.peek() == ("punct", "+"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def term(self):
        if self.peek() == ("punct", "("):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterError("The filter nests too deeply")
            inner = self.either()
            self.take(")")
            self.depth -= 1
            return inner
        kind, name = self.take()
        if kind != "literal" or not PROPERTY.fullmatch(name):
            raise FilterError(f"Expected a property name but found {name!r}")
        self.take(":")
        negated = False
        if self.peek() == ("punct", "-"):
            self.take()
            negated = True
        operator = "="
        if self.peek() in {("punct", op) for op in (">", "<", ">=", "<=", "~", "~^", "~$")}:
            operator = self.take()[1]
        if self.peek() == ("punct", "["):
            if operator != "=":
                raise FilterError(f"{operator!r} cannot take a list")
            self.take()
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            self.take("]")
            return ("compare", name.lower(), "in", values, negated)
        return ("compare", name.lower(), operator, self.value(), negated)

    def value(self):
        kind, text = self.take()
        if kind == "quoted":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind != "literal":
            raise FilterError(f"Expected a value but found {text!r}")
        lowered = text.lower()
        if lowered == "null":
            return NULL
        if lowered in ("true", "false"):
            return lowered == "true"
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return text


def parse(text: str):
    """Parse an NQL filter into a tree (see the module docstring); raise FilterError.

    The text is the decoded query value; a space (a `+` sent unencoded) counts as `+`.
    """
    if len(text) > MAX_LENGTH:
        raise FilterError(f"Filters are limited to {MAX_LENGTH} characters")
    text = text.strip()
    if not text:
        raise FilterError("The filter is empty")
    return _Parser(text).parse()
