"""One address, one identity: store every address in its normalised form, merging duplicates.

Until now `Alice@Example.com` and `alice@example.com` could be two subscribers (the mailbox got
every newsletter twice) and an IDN domain was stored in Unicode. blog.addresses now stores the
whole address lower-case with an ASCII (IDNA) domain; this migration brings existing rows to
that form.

Subscribers that are one mailbox are merged into one row, and nobody is lost:
- the row kept is the confirmed one (the earliest confirmed if several), else the oldest;
- its status: bounced if any row bounced (the mailbox refused mail); else unsubscribed if an
  unsubscribe came after the last confirmation (the reader's latest word); else confirmed if
  any row was confirmed; else unsubscribed or pending;
- created_at is the earliest, requested_at the latest, confirmed_at the earliest confirmation,
  the name the kept row's or else the first one given;
- every delivery and confirmation mail of the others moves to the kept row; where both rows
  have a delivery of the same post, the one that got furthest (sent over queued) is kept.

Staff addresses and invites are lower-cased too. Two staff accounts that differ only in case
cannot be merged here (each has posts and a password), so both are left as they are and a
warning names them; sign-in already matches either case.

Revision ID: 0006_content_people
Revises: 0006_ghost
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006_content_people"
down_revision = "0006_ghost"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

subscribers = sa.table(
    "subscribers",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("status", sa.String),
    *(
        sa.column(name, sa.DateTime)  # typed, so SQLite hands back datetimes to compare
        for name in ("created_at", "requested_at", "confirmed_at", "unsubscribed_at")
    ),
)
outbox = sa.table(
    "mail_outbox",
    sa.column("id"),
    sa.column("subscriber_id"),
    sa.column("post_id"),
    sa.column("status"),
    sa.column("recipient"),
)
users = sa.table("users", sa.column("id"), sa.column("email"))
invites = sa.table("invites", sa.column("id"), sa.column("email"))
# How far a delivery got; of two deliveries of one post to one mailbox, the further is kept.
PROGRESS = {"sent": 4, "sending": 3, "queued": 2, "failed": 1, "cancelled": 0}


def stored_form(address: str) -> str:
    """Return the address lower-cased with an ASCII domain (blog.addresses' stored form)."""
    local, _, domain = address.strip().rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # left as it was; the address was stored before the rule and is kept
    return f"{local}@{domain}".lower()


def groups(conn, table) -> dict[str, list[tuple[int, str]]]:
    """Return {stored form: [(id, email), ...]} for every row of table, oldest id first."""
    found: dict[str, list[tuple[int, str]]] = {}
    for row_id, email in conn.execute(sa.select(table.c.id, table.c.email).order_by(table.c.id)):
        found.setdefault(stored_form(email), []).append((row_id, email))
    return found


def merged(rows: list) -> tuple:
    """Choose the row to keep among one mailbox's rows; return (kept row, merged values)."""
    confirmed = [r for r in rows if r.confirmed_at is not None or r.status == "confirmed"]
    keep = min(confirmed or rows, key=lambda r: (r.confirmed_at or r.created_at, r.id))
    statuses = {r.status for r in rows}
    last_confirmed = max((r.confirmed_at for r in rows if r.confirmed_at), default=None)
    last_unsubscribed = max((r.unsubscribed_at for r in rows if r.unsubscribed_at), default=None)
    if "bounced" in statuses:
        status = "bounced"
    elif last_unsubscribed and (last_confirmed is None or last_unsubscribed > last_confirmed):
        status = "unsubscribed" if "unsubscribed" in statuses else keep.status
    elif "confirmed" in statuses:
        status = "confirmed"
    else:
        status = "unsubscribed" if "unsubscribed" in statuses else keep.status
    values = {
        "status": status,
        "name": keep.name or next((r.name for r in rows if r.name), None),
        "created_at": min(r.created_at for r in rows),
        "requested_at": max(r.requested_at for r in rows),
        "confirmed_at": min((r.confirmed_at for r in rows if r.confirmed_at), default=None),
        "unsubscribed_at": last_unsubscribed if status == "unsubscribed" else None,
    }
    return keep, values


def move_mail(conn, keep_id: int, other_id: int, address: str) -> None:
    """Move one duplicate's mail to the kept row; of two deliveries of a post keep the further."""
    kept = {
        row.post_id: row
        for row in conn.execute(
            sa.select(outbox.c.id, outbox.c.post_id, outbox.c.status).where(
                outbox.c.subscriber_id == keep_id, outbox.c.post_id.is_not(None)
            )
        )
    }
    for row in conn.execute(
        sa.select(outbox.c.id, outbox.c.post_id, outbox.c.status).where(
            outbox.c.subscriber_id == other_id
        )
    ).all():
        twin = kept.get(row.post_id) if row.post_id is not None else None
        if twin is not None:
            if PROGRESS.get(row.status, 0) <= PROGRESS.get(twin.status, 0):
                conn.execute(sa.delete(outbox).where(outbox.c.id == row.id))
                continue
            conn.execute(sa.delete(outbox).where(outbox.c.id == twin.id))
        conn.execute(sa.update(outbox).where(outbox.c.id == row.id).values(subscriber_id=keep_id))
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.subscriber_id == keep_id, outbox.c.status == "queued")
        .values(recipient=address)
    )


def merge_subscribers(conn) -> None:
    """Bring every subscriber to the stored form, merging rows that are one mailbox."""
    for address, rows in groups(conn, subscribers).items():
        if len(rows) == 1:
            if rows[0][1] != address:
                conn.execute(
                    sa.update(subscribers)
                    .where(subscribers.c.id == rows[0][0])
                    .values(email=address)
                )
            continue
        full = conn.execute(
            sa.select(subscribers).where(subscribers.c.id.in_([row_id for row_id, _ in rows]))
        ).all()
        keep, values = merged(full)
        for row in full:
            if row.id != keep.id:
                move_mail(conn, keep.id, row.id, address)
                conn.execute(sa.delete(subscribers).where(subscribers.c.id == row.id))
        conn.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == keep.id)
            .values(email=address, **values)
        )
        log.info("Merged %d subscribers into one for %s.", len(rows), address)


def normalise_staff(conn) -> None:
    """Lower-case staff addresses and invites; leave (and name) staff that differ only in case."""
    for address, rows in groups(conn, users).items():
        if len(rows) > 1:
            log.warning(
                "Staff accounts %s share one mailbox; merge them by hand.",
                ", ".join(email for _, email in rows),
            )
        elif rows[0][1] != address:
            conn.execute(sa.update(users).where(users.c.id == rows[0][0]).values(email=address))
    for address, rows in groups(conn, invites).items():
        for row_id, email in rows:
            if email != address:
                conn.execute(sa.update(invites).where(invites.c.id == row_id).values(email=address))


def upgrade():
    conn = op.get_bind()
    merge_subscribers(conn)
    normalise_staff(conn)


def downgrade():
    pass  # merged rows cannot be split again; the stored form is valid for the old code too
