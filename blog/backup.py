"""Backups: the database and every upload in one archive, taken while the blog serves, and put
back with `restore`.

    flask --app blog backup -o blog-2026-11-30.tar      # SQLite or PostgreSQL, local or S3 uploads
    flask --app blog restore blog-2026-11-30.tar --yes

The archive is a plain tar holding `manifest.json` (what is inside, and from which schema
revision), the database, `uploads/<name>` for each stored upload, and `secret_key` (the key
the blog generated into its instance folder, which signs the links in mail already sent; the
archive is written readable by its owner only):

- SQLite: `database.sqlite`, copied with SQLite's online backup API, which reads a consistent
  snapshot while other connections keep reading and writing (https://sqlite.org/backup.html).
- PostgreSQL: `database.pgdump`, from `pg_dump --format=custom` (a consistent snapshot by
  PostgreSQL's MVCC), restored with `pg_restore --clean`. pg_dump must be on PATH, at the
  server's major version or newer.

The database is copied first and the uploads after it, so every image the copied posts name is
in the archive (uploads are never changed in place, only added and removed). Restore replaces
the database's content and puts the uploads back, then starts a new content generation so
every worker's response cache shows the restored site at once.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import make_url, text

from blog.cache import bump_content_generation
from blog.extensions import db
from blog.images import MIMETYPES
from blog.serving import MIGRATIONS, migration_heads
from blog.storage import storage

FORMAT = 1
SECRET_KEY_MEMBER = "secret_key"  # instance/secret_key, when the blog generated its own
SQLITE_PAGES_PER_STEP = 256


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead; the message says why."""


def _database_kind() -> str:
    return db.engine.dialect.name  # "sqlite" or "postgresql"


def _sqlite_file() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _libpq_url() -> str:
    """The database URL in the form pg_dump and pg_restore understand (no +driver)."""
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            f"(apt-get install postgresql-client) at the server's version or newer."
        )
    return found


def _schema_revision() -> list[str]:
    try:
        with db.engine.connect() as conn:
            return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:
        return []


def _copy_sqlite(target: Path, progress) -> None:
    """Copy the live SQLite database to target with the online backup API."""
    source = sqlite3.connect(_sqlite_file(), timeout=30)
    copy = sqlite3.connect(target)
    try:

        def step(status, remaining, total):
            progress(total - remaining, total)

        with copy:
            source.backup(copy, pages=SQLITE_PAGES_PER_STEP, progress=step)
    finally:
        copy.close()
        source.close()


def make_backup(out: Path, echo=click.echo) -> dict:
    """Write a backup archive of the database and uploads to out; return its manifest.

    Written to a temporary file beside out and renamed into place, so out is either the old
    file or a complete archive. Raises BackupError (no pg_dump, an in-memory database) or
    subprocess.CalledProcessError (pg_dump failed).
    """
    kind = _database_kind()
    out = out.resolve()
    draft = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    manifest = {
        "format": FORMAT,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": kind,
        "schema": _schema_revision(),
        "uploads": 0,
    }
    try:
        # Only the owner may read it: it holds password hashes and subscribers' addresses.
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            tempfile.TemporaryDirectory() as scratch,
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w") as archive,
        ):
            if kind == "sqlite":
                copy = Path(scratch) / "database.sqlite"
                with click.progressbar(length=100, label="Database (SQLite)") as bar:
                    done = [0]

                    def progress(copied, total):
                        percent = int(100 * copied / total) if total else 100
                        bar.update(percent - done[0])
                        done[0] = percent

                    _copy_sqlite(copy, progress)
                    progress(1, 1)
                archive.add(copy, "database.sqlite")
            elif kind == "postgresql":
                copy = Path(scratch) / "database.pgdump"
                echo("Database (PostgreSQL): pg_dump ...")
                subprocess.run(
                    [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                     f"--file={copy}", f"--dbname={_libpq_url()}"],
                    check=True,
                )  # fmt: skip
                archive.add(copy, "database.pgdump")
            else:
                raise BackupError(f"Backups of {kind} databases are not supported.")
            store = storage()
            names = list(store.names())
            with click.progressbar(names, label=f"Uploads ({len(names)})") as bar:
                for name in bar:
                    data = store.get(name)
                    if data is None:  # deleted since it was listed
                        continue
                    _add_bytes(archive, f"uploads/{name}", data)
                    manifest["uploads"] += 1
            key = _secret_key_file()
            if key.is_file():  # links in mail already sent are signed with it
                _add_bytes(archive, SECRET_KEY_MEMBER, key.read_bytes())
                manifest["secret_key"] = True
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
        os.replace(draft, out)
    finally:
        if draft.exists():
            draft.unlink()
    return manifest


def _secret_key_file() -> Path:
    return Path(current_app.instance_path) / "secret_key"


def _extract_file(archive: tarfile.TarFile, member: str, target: Path) -> None:
    """Copy one regular file out of archive to target (a path we chose: no member's name is
    ever used as a path, so no extraction filter is needed; tarfile's filter= came in 3.11.4)."""
    try:
        info = archive.getmember(member)
    except KeyError:
        raise BackupError(f"The backup has no {member}.") from None
    if not info.isfile():
        raise BackupError(f"The backup's {member} is not a regular file.")
    with archive.extractfile(info) as data, open(target, "wb") as out:
        shutil.copyfileobj(data, out)


def _restore_secret_key(key: bytes, echo) -> None:
    """Put the backed-up secret key in the instance folder (owner-only), so confirmation and
    unsubscribe links in mail sent before the backup keep working, and sessions stay valid."""
    path = _secret_key_file()
    if path.is_file() and path.read_bytes() == key:
        return
    draft = path.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    os.replace(draft, path)
    echo("Restored the secret key: restart the web server and mail worker so they use it.")
    if current_app.config.get("SECRET_KEY") != key.decode().strip():
        echo("  (this blog's SECRET_KEY is set in its config or environment, which wins.)")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def restore_backup(source: Path, echo=click.echo) -> dict:
    """Replace the database's content and the uploads with those in a backup archive.

    Raises BackupError when the archive is not a backup, is of another database engine, or
    comes from a newer schema than this code knows.
    """

    try:
        archive = tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{source} is not a backup archive ({error}).") from None
    with archive, tempfile.TemporaryDirectory() as scratch:
        try:
            manifest = json.load(archive.extractfile("manifest.json"))
        except (KeyError, ValueError):
            raise BackupError(f"{source} has no readable manifest.json: not a blog backup.") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
        kind = _database_kind()
        if manifest["database"] != kind:
            raise BackupError(
                f"This backup holds a {manifest['database']} database; the blog is configured "
                f"for {kind}. Point DATABASE_URL at a {manifest['database']} database to restore it."
            )
        unknown = set(manifest.get("schema") or []) - migration_heads() - _known_revisions()
        if unknown:
            raise BackupError(f"The backup's schema {sorted(unknown)} is newer than this code.")
        db.session.remove()
        db.engine.dispose()  # no pooled connection may hold a lock the restore needs
        member = "database.sqlite" if kind == "sqlite" else "database.pgdump"
        copy = Path(scratch) / member
        _extract_file(archive, member, copy)
        if kind == "sqlite":
            source_db = sqlite3.connect(copy)
            live = sqlite3.connect(_sqlite_file(), timeout=30)
            try:
                with click.progressbar(length=1, label="Database (SQLite)") as bar:
                    source_db.backup(live)  # replaces every page, under SQLite's own locks
                    bar.update(1)
            finally:
                live.close()
                source_db.close()
        else:
            echo("Database (PostgreSQL): pg_restore ...")
            subprocess.run(
                [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                 "--no-privileges", "--single-transaction", f"--dbname={_libpq_url()}", str(copy)],
                check=True,
            )  # fmt: skip
        store = storage()
        wanted = [m for m in archive.getmembers() if m.name.startswith("uploads/") and m.isfile()]
        keep = {m.name[len("uploads/") :] for m in wanted}
        with click.progressbar(wanted, label=f"Uploads ({len(wanted)})") as bar:
            for member in bar:
                name = member.name[len("uploads/") :]
                if "/" in name or name.startswith("."):
                    continue
                store.put(name, archive.extractfile(member).read(), _content_type(name))
        for name in list(store.names()):
            if name not in keep:  # uploaded after the backup: no restored post names it
                store.delete(name)
        if manifest.get("secret_key"):
            _restore_secret_key(archive.extractfile(SECRET_KEY_MEMBER).read(), echo)
    # This process's kept copies describe the replaced site: settings and built sitemaps.
    current_app.extensions.get("stored_settings", {}).clear()
    current_app.extensions.get("built_sitemaps", {}).clear()
    bump_content_generation()
    return manifest


def _known_revisions() -> set[str]:

    names = set()
    for path in MIGRATIONS.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith("revision"):
                names.add(line.split("=", 1)[1].strip().strip("\"'"))
    return names


def _content_type(name: str) -> str:

    return MIMETYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


@click.command("backup")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (a .tar file).")  # fmt: skip
@with_appcontext
def backup_command(output: str) -> None:
    """Back up the database and uploads into one archive, while the blog keeps serving."""
    manifest = make_backup(Path(output))
    size = Path(output).stat().st_size
    click.echo(
        f"Backed up the {manifest['database']} database and {manifest['uploads']} uploads "
        f"to {output} ({size / 1e6:.1f} MB)."
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the blog's content.")
@with_appcontext
def restore_command(archive: str, yes: bool) -> None:
    """Replace the blog's database and uploads with a backup's (stop the mail worker first)."""
    url = make_url(str(db.engine.url)).render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace everything in {url} and the uploads with {archive}?", abort=True)
    manifest = restore_backup(Path(archive))
    click.echo(
        f"Restored the backup of {manifest['created_at']} ({manifest['uploads']} uploads) "
        f"into {url}."
    )


def init_app(app: Flask) -> None:
    """Register the backup and restore commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
