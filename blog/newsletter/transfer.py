"""Subscriber lists in and out as CSV: imports from Ghost, Mailchimp or Substack, and exports."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import insert, select

from blog.extensions import db
from blog.models import Subscriber, utcnow
from blog.newsletter.forms import MAX_NAME, normalise_address
from blog.newsletter.services import is_blocked

# Ghost and Substack call the column "email", Mailchimp "Email Address".
EMAIL_COLUMNS = {"email", "emailaddress", "e-mail", "mail"}
NAME_COLUMNS = {"name", "fullname"}
# A spreadsheet runs a cell that starts with one of these as a formula (SECURITY.md #34).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ["email", "name", "status", "source", "created_at", "confirmed_at"]
EXPORT_COLUMNS += ["unsubscribed_at"]


def neutralise(cell: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "").replace("_", "")


@dataclass
class ImportReport:
    imported: int = 0
    already_present: int = 0
    repeated_in_file: int = 0
    not_subscribed: int = 0
    blocked: int = 0
    invalid: list[int] = field(default_factory=list)  # line numbers

    def summary(self) -> str:
        lines = [f"Imported {self.imported} subscribers as confirmed (no mail was sent)."]
        for count, what in [
            (self.already_present, "already on the list (left as they were)"),
            (self.repeated_in_file, "repeated in the file"),
            (self.not_subscribed, "not subscribed in the export"),
            (self.blocked, "on a blocked domain"),
        ]:
            if count:
                lines.append(f"Skipped {count} {what}.")
        if self.invalid:
            shown = ", ".join(map(str, self.invalid[:10])) + (
                " ..." if len(self.invalid) > 10 else ""
            )
            lines.append(f"Skipped {len(self.invalid)} invalid addresses (lines {shown}).")
        return "\n".join(lines)


def _columns(headers: list[str]) -> tuple[str, list[str], str | None]:
    """Find the email, name and "subscribed" columns of an export; raise ValueError if no email."""
    by_key = {_key(header): header for header in headers}
    email = next((by_key[k] for k in by_key if k in EMAIL_COLUMNS), None)
    if email is None:
        raise ValueError(f"No email column in the file (columns: {', '.join(headers)}).")
    names = [by_key[k] for k in by_key if k in NAME_COLUMNS]
    if not names:  # Mailchimp
        names = [by_key[k] for k in ("firstname", "lastname") if k in by_key]
    subscribed = by_key.get("subscribedtoemails") or by_key.get("subscribed")  # Ghost
    return email, names, subscribed


def import_subscribers(stream: TextIO, chunk: int = 1000) -> ImportReport:
    """Add the file's addresses as confirmed subscribers, without mailing anyone.

    Skips addresses already present (whatever their status: an unsubscribed reader stays
    unsubscribed), repeats, invalid rows and rows the old platform marks as not subscribed.
    Raises ValueError when the file has no email column.
    """
    reader = csv.DictReader(stream)
    email_column, name_columns, subscribed_column = _columns(reader.fieldnames or [])
    known = set(db.session.scalars(select(Subscriber.email)))
    report, seen, batch, now = ImportReport(), set(), [], utcnow()
    for row in reader:
        raw = (row.get(email_column) or "").strip()
        if raw.startswith("'") and raw[1:].startswith(FORMULA_START):
            raw = raw[1:]  # undo our own export's neutralising
        try:
            email = normalise_address(raw)
        except ValueError:
            report.invalid.append(reader.line_num)
            continue
        if subscribed_column and (row.get(subscribed_column) or "").strip().lower() in (
            "false",
            "0",
            "no",
        ):
            report.not_subscribed += 1
        elif email in known:
            report.already_present += 1
        elif email in seen:
            report.repeated_in_file += 1
        elif is_blocked(email):
            report.blocked += 1
        else:
            seen.add(email)
            name = " ".join((row.get(c) or "").strip() for c in name_columns).strip()
            name = " ".join(name.split())[:MAX_NAME] or None
            batch.append(
                {
                    "email": email,
                    "name": name,
                    "status": "confirmed",
                    "source": "import",
                    "created_at": now,
                    "requested_at": now,
                    "confirmed_at": now,
                    "confirmations_sent": 0,
                }
            )
        if len(batch) >= chunk:
            report.imported += _insert(batch)
    report.imported += _insert(batch)
    return report


def _insert(batch: list[dict]) -> int:
    count = len(batch)
    if batch:
        db.session.execute(insert(Subscriber), batch)
        batch.clear()
    return count


def export_rows(status: str | None = None) -> Iterator[list[str]]:
    """Yield the header, then one neutralised row per subscriber, oldest first."""
    yield EXPORT_COLUMNS
    statement = select(Subscriber).order_by(Subscriber.id)
    if status:
        statement = statement.where(Subscriber.status == status)
    for subscriber in db.session.scalars(statement.execution_options(yield_per=1000)):
        values = [getattr(subscriber, column) for column in EXPORT_COLUMNS]
        yield [neutralise(_cell(value)) for value in values]


def _cell(value) -> str:
    if value is None:
        return ""
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def write_csv(out: TextIO, rows: Iterable[list[str]]) -> int:
    """Write rows as CSV; return how many rows followed the header."""
    writer = csv.writer(out)
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)
