"""Newsletter throughput: queue one post for N confirmed subscribers, then time the outbox sender
delivering it to a local SMTP server (aiosmtpd, in a process of its own, on 127.0.0.1).

    .venv/bin/python bench/mail_bench.py                     # 10,000 subscribers on SQLite
    .venv/bin/python bench/mail_bench.py --connections 1     # over one SMTP connection
    .venv/bin/python bench/mail_bench.py --database postgresql+psycopg://postgres@127.0.0.1/test

The sender is `flask worker --burst --connections N` without the command line: the same
blog.mail.sender.run_parallel, one thread and SMTP connection per --connections. The server
counts the mails each recipient got; the run fails (exit status 1, nothing written) unless
every subscriber got exactly one.

Bounded: sending stops after --timeout seconds whatever happens. The figure goes into
docs/benchmarks-newsletter.md (one row per database kind and connection count, replaced on each
run). A PostgreSQL run works in a scratch database of its own on that server and drops it
afterwards.
"""

import argparse
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, make_url, select, text  # noqa: E402

from blog import create_app  # noqa: E402
from blog.extensions import db  # noqa: E402
from blog.mail import sender  # noqa: E402
from blog.models import Base, OutboxMessage, Post, Subscriber, utcnow  # noqa: E402
from blog.newsletter import queue_post_newsletter  # noqa: E402

DOC = ROOT / "docs" / "benchmarks-newsletter.md"
START, END = "<!-- results -->", "<!-- /results -->"

# The SMTP server: counts the mails each recipient got; when stdin closes it prints them and its
# CPU time as one line of JSON.
SERVER = """
import collections, json, resource, sys
from aiosmtpd.controller import Controller
class Count:
    per_recipient = collections.Counter()
    async def handle_DATA(self, server, session, envelope):
        Count.per_recipient.update(envelope.rcpt_tos)
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"cpu": cpu, "per_recipient": Count.per_recipient}), flush=True)
"""


@dataclass
class Result:
    database: str
    connections: int
    subscribers: int
    queue_seconds: float
    sent: int
    send_seconds: float
    sender_cpu: float
    accepted: int = 0
    server_cpu: float = 0.0
    missing: int = 0  # subscribers the server got no mail for
    repeated: int = 0  # subscribers it got more than one for
    strangers: int = 0  # recipients that are no subscriber at all
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # load average as sending ended

    @property
    def exactly_once(self) -> bool:
        return not (self.missing or self.repeated or self.strangers)

    @property
    def rate(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--connections", type=int, default=4, help="SMTP connections at once (MAIL_CONNECTIONS)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="stop sending after this")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    os.environ["BLOG_INSTANCE_PATH"] = str(workdir / "instance")
    url, scratch = args.database or f"sqlite:///{workdir / 'bench.sqlite'}", None
    if url.startswith("postgresql"):
        scratch = scratch_database(url)
        url = make_url(url).set(database=scratch).render_as_string(hide_password=False)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        result = run(url, port, args)
    finally:
        server.stdin.close()
        counted = json.loads(server.stdout.readline())
        server.wait(timeout=10)
        if scratch:
            scratch_database(args.database, drop=scratch)
    check(result, counted["per_recipient"])
    result.server_cpu = counted["cpu"]
    report(result, args.timeout)
    if not result.exactly_once:
        sys.exit(
            f"NOT EXACTLY ONCE: {result.missing} subscribers got no mail, {result.repeated} got "
            f"more than one, {result.strangers} mails went to addresses that are no subscriber."
        )
    if not args.no_write:
        record(result)


def run(url: str, port: int, args) -> Result:
    """Fill the database, queue the post, and send until done or out of time."""
    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SITE_URL": "https://blog.example",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_BATCH_SIZE": args.batch_size,
            "MAIL_CONNECTIONS": args.connections,
            "MAIL_BACKGROUND_SENDER": False,
        }
    )
    stop = threading.Event()
    timer = threading.Timer(args.timeout, stop.set)
    with app.app_context():
        kind = db.engine.dialect.name
        Base.metadata.create_all(db.engine)
        post = prepare(args.subscribers)
        started = time.perf_counter()
        queued = queue_post_newsletter(post)
        db.session.commit()
        queue_seconds = time.perf_counter() - started
        print(f"Queued {queued} deliveries in {queue_seconds:.2f} s; sending...", flush=True)

        db.session.remove()  # the sender threads use sessions of their own

        timer.start()
        started, cpu = time.perf_counter(), time.process_time()
        sender.run_parallel(app, stop, burst=True, connections=app.config["MAIL_CONNECTIONS"])
        send_seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        load = os.getloadavg()
        timer.cancel()
        sent = db.session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        db.session.remove()
        db.engine.dispose()
    connections = app.config["MAIL_CONNECTIONS"]
    result = Result(kind, connections, args.subscribers, queue_seconds, sent, send_seconds, cpu)
    result.load = load
    return result


def prepare(count: int) -> Post:
    """Add count confirmed subscribers and one published post of an ordinary length."""
    now = utcnow()
    rows = [
        {
            "email": address(n),
            "status": "confirmed",
            "source": "bench",
            "created_at": now,
            "requested_at": now,
            "confirmed_at": now,
            "confirmations_sent": 0,
        }
        for n in range(count)
    ]
    db.session.execute(insert(Subscriber), rows)
    paragraph = "<p>" + "A paragraph of an ordinary post, long enough to be typical. " * 8 + "</p>"
    post = Post(
        title="Benchmark post",
        slug="benchmark-post",
        html=paragraph * 12,
        plaintext="A paragraph of an ordinary post. " * 150,
        status="published",
        published_at=now,
    )
    db.session.add(post)
    db.session.commit()
    return post


def check(result: Result, per_recipient: dict[str, int]) -> None:
    """Count the subscribers the server got no mail for, or more than one, and any stranger."""
    expected = {address(n) for n in range(result.subscribers)}
    result.accepted = sum(per_recipient.values())
    result.missing = len(expected - per_recipient.keys())
    result.repeated = sum(1 for to, count in per_recipient.items() if to in expected and count > 1)
    result.strangers = sum(1 for to in per_recipient if to not in expected)


def address(n: int) -> str:
    """Return subscriber number n's address."""
    return f"reader{n:06d}@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_database(url: str, drop: str | None = None) -> str:
    """Create a new database on url's server (or drop the one named drop); return its name."""
    name = drop or f"mail_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def report(result: Result, timeout: float) -> None:
    done = "" if result.sent == result.subscribers else f" (stopped after {timeout:.0f} s)"
    per_mail = max(result.sent, 1) / 1000
    once = "exactly once" if result.exactly_once else "NOT exactly once"
    print(
        f"{result.database}, {result.connections} connection(s): sent {result.sent} of "
        f"{result.subscribers} in {result.send_seconds:.1f} s = {result.rate:.0f} mails/s{done}; "
        f"the server accepted {result.accepted}: {once} (missing {result.missing}, repeated "
        f"{result.repeated}, strangers {result.strangers}). CPU per mail: sender "
        f"{result.sender_cpu / per_mail:.2f} ms, SMTP server {result.server_cpu / per_mail:.2f} ms. "
        f"Load average {result.load[0]:.2f} {result.load[1]:.2f} {result.load[2]:.2f}."
    )


def record(result: Result) -> None:
    """Put this run's row into the results table of docs/benchmarks-newsletter.md."""
    per_mail = max(result.sent, 1) / 1000
    label = result.database
    if label == "sqlite":
        label += f" {sqlite3.sqlite_version}"
    key = f"| {label} | {result.connections} |"
    row = (
        f"{key} {result.subscribers:,} | {result.queue_seconds:.2f} s | "
        f"{result.sent:,} in {result.send_seconds:.1f} s | **{result.rate:,.0f}** | "
        f"{result.sender_cpu / per_mail:.2f} / {result.server_cpu / per_mail:.2f} ms | "
        f"{result.subscribers - result.missing:,} of {result.subscribers:,} once, none twice | "
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, load {result.load[0]:.1f}, "
        f"Python {platform.python_version()} |"
    )
    doc = DOC.read_text() if DOC.exists() else TEMPLATE
    head, rest = doc.split(START, 1)
    table, tail = rest.split(END, 1)
    lines = [line for line in table.strip().splitlines() if not line.startswith(key)]
    DOC.write_text(head + START + "\n" + "\n".join([*lines, row]) + "\n" + END + tail)
    print(f"Wrote the figure into {DOC.relative_to(ROOT)}")


TEMPLATE = f"""# Newsletter sending benchmark

`bench/mail_bench.py` queues one post for 10,000 confirmed subscribers (one outbox row each,
written by a single `INSERT ... SELECT`), then times `flask --app blog worker --burst
--connections N` without its command line (blog.mail.sender.run_parallel: N threads, each
with its own SMTP connection, claiming 50 rows at a time) delivering every message to an
aiosmtpd server on 127.0.0.1 in a process of its own. The server counts the mails each address
got: the run fails, and writes nothing here, unless every subscriber got exactly one. Each
message carries the post (HTML and text), the reader's own unsubscribe link and
List-Unsubscribe headers, and is marked sent in its own commit, so a crash repeats at most the
messages in flight, one per connection.

```sh
.venv/bin/python bench/mail_bench.py --connections 1
.venv/bin/python bench/mail_bench.py                      # 4 connections, MAIL_CONNECTIONS' default
.venv/bin/python bench/mail_bench.py --connections 1 --database postgresql+psycopg://postgres@127.0.0.1:5432/test
.venv/bin/python bench/mail_bench.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
```

{START}
| database | connections | subscribers | queueing | sending | mails/s | CPU per mail (sender / SMTP server) | delivered | run |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{END}

"load" is the machine's one-minute load average as sending ended: on 2 cores, anything much
above 2 means other work shared the CPUs, and the wall-clock figures are lower than a quiet
machine gives; the CPU per mail moves far less. The rows above were measured with other jobs
running (load 6 to 6.5): the sender's CPU per mail fell from 2.4 to 1.0 ms on SQLite and from
3.0 to 1.4 ms on PostgreSQL, and the two processes together need about 2 ms (SQLite) and 2.5
ms plus PostgreSQL's own work per mail, so a quiet machine's 2 cores leave room well above
these figures.

Where the time went. On 2026-11-30 the sender spent 2.4 ms of CPU per mail on SQLite and 3.0 ms
on PostgreSQL (295 and 210 mails/s over one connection). Most of it was the email package
building every copy from scratch, then the database:

- A post's issue is now rendered and MIME-encoded once per claimed batch and stamped out per
  subscriber (blog.mail.stencil): a copy folds only its own headers (To, Message-ID, Date,
  List-Unsubscribe) and quoted-printable encodes only the lines holding its unsubscribe link;
  every other byte is shared. The copy is byte for byte the message composed for that reader
  alone (tests/mail/test_mail_stencil.py).
- An outcome is recorded by one cached UPDATE over a connection held for the batch, still one
  commit per mail; on PostgreSQL the same statement turns synchronous_commit off for its
  transaction, so the separate `SET LOCAL` round trip is gone.
- What is left per mail, roughly in order: smtplib and Flask-Mail's send (address parsing,
  four round trips: MAIL, RCPT, DATA and the end of the data), the commit, the unsubscribe
  token's signature.

Connections and threads. The sender's threads share one interpreter, so more connections do
not add sender CPU; they overlap waiting: while one thread waits for the server's reply or the
database's commit, another composes or records. Here both processes are CPU-bound (sender and
SMTP server about 1 ms each per mail, on 2 cores), so four connections add less than they do
against a real relay, where every mail waits four network round trips: at 20 ms each, one
connection sends about 12 mails/s and four about 50.
"""


if __name__ == "__main__":
    main()
