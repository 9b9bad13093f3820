"""Subscriber lists in and out as CSV: imports from Ghost, Mailchimp or Substack, and exports."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from flask import current_app
from sqlalchemy import insert, select

from blog.addresses import normalise_address
from blog.extensions import db
from blog.models import Subscriber, utcnow
from blog.newsletter.forms import MAX_NAME
from blog.newsletter.services import is_blocked

# Ghost and Substack call the column "email", Mailchimp "Email Address".
EMAIL_COLUMNS = {"email", "emailaddress", "e-mail", "mail"}
NAME_COLUMNS = {"name", "fullname"}
# When the reader signed up: Ghost and Substack "created_at", Mailchimp "OPTIN_TIME".
SIGNED_UP_COLUMNS = ("createdat", "optintime", "confirmtime", "subscribedat")
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
    deleted: int = 0
    invalid: list[int] = field(default_factory=list)  # line numbers

    def summary(self) -> str:
        """Return the report as lines a person reads, with 1 and many worded right."""
        lines = [f"Imported {_count(self.imported, 'subscriber')} as confirmed (no mail was sent)."]
        for count, what in [
            (self.already_present, "already on the list (left as they were)"),
            (self.repeated_in_file, "repeated in the file"),
            (self.not_subscribed, "not subscribed in the export"),
            (self.deleted, "deleted in the export"),
            (self.blocked, "on a blocked domain"),
        ]:
            if count:
                lines.append(f"Skipped {count} {what}.")
        if self.invalid:
            shown = ", ".join(map(str, self.invalid[:10])) + (
                " ..." if len(self.invalid) > 10 else ""
            )
            where = "line" if len(self.invalid) == 1 else "lines"
            lines.append(
                f"Skipped {_count(len(self.invalid), 'invalid address', 'invalid addresses')}"
                f" ({where} {shown})."
            )
        return "\n".join(lines)


def _count(number: int, one: str, many: str | None = None) -> str:
    """Return "1 subscriber" or "2 subscribers" (many defaults to one + "s")."""
    return f"{number} {one if number == 1 else many or one + 's'}"


def signed_up(value: str | None, now: datetime) -> datetime:
    """Return an export's sign-up time as naive UTC, or now when it is missing or unreadable.

    Reads ISO 8601 as Ghost writes it (`2024-01-01T09:30:00.000Z`) and Mailchimp's
    `2023-05-01 10:00:00` (UTC); a time with an offset is converted, a future one is not kept.
    """
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return now
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return min(moment, now)


def _columns(headers: list[str]) -> Columns:
    """Find the columns of an export that matter here; raise ValueError if there is no email."""
    by_key = {_key(header): header for header in headers}
    email = next((by_key[k] for k in by_key if k in EMAIL_COLUMNS), None)
    if email is None:
        raise ValueError(f"No email column in the file (columns: {', '.join(headers)}).")
    names = [by_key[k] for k in by_key if k in NAME_COLUMNS]
    if not names:  # Mailchimp
        names = [by_key[k] for k in ("firstname", "lastname") if k in by_key]
    subscribed = by_key.get("subscribedtoemails") or by_key.get("subscribed")  # Ghost
    signed_up_column = next((by_key[k] for k in SIGNED_UP_COLUMNS if k in by_key), None)
    return Columns(email, names, subscribed, by_key.get("deletedat"), signed_up_column)


@dataclass
class Columns:
    email: str
    names: list[str]
    subscribed: str | None
    deleted: str | None  # Ghost: set when the member was deleted
    signed_up: str | None


def import_subscribers(stream: TextIO, chunk: int = 1000) -> ImportReport:
    """Add the file's addresses as confirmed subscribers, without mailing anyone.

    Keeps each reader's name and sign-up date (Ghost's created_at, Mailchimp's OPTIN_TIME).
    Skips addresses already present in any letter case (whatever their status: an
    unsubscribed reader stays unsubscribed), repeats, invalid rows, rows the old platform
    marks as not subscribed, and rows Ghost marks as deleted (deleted_at set).
    Raises ValueError when the file has no email column.
    """
    reader = csv.DictReader(stream)
    columns = _columns(reader.fieldnames or [])
    known = {email.lower() for email in db.session.scalars(select(Subscriber.email))}
    report, seen, batch, now = ImportReport(), set(), [], utcnow()
    for row in reader:
        raw = (row.get(columns.email) or "").strip()
        if raw.startswith("'") and raw[1:].startswith(FORMULA_START):
            raw = raw[1:]  # undo our own export's neutralising
        if columns.deleted and (row.get(columns.deleted) or "").strip():
            report.deleted += 1
            continue
        try:
            email = normalise_address(
                raw, check_deliverability=current_app.config["NEWSLETTER_CHECK_DELIVERABILITY"]
            )
        except ValueError:
            report.invalid.append(reader.line_num)
            continue
        if columns.subscribed and (row.get(columns.subscribed) or "").strip().lower() in (
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
            name = " ".join((row.get(c) or "").strip() for c in columns.names).strip()
            name = " ".join(name.split())[:MAX_NAME] or None
            since = signed_up(row.get(columns.signed_up) if columns.signed_up else None, now)
            batch.append(
                {
                    "email": email,
                    "name": name,
                    "status": "confirmed",
                    "source": "import",
                    "created_at": since,
                    "requested_at": since,
                    "confirmed_at": since,
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
