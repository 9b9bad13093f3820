"""Extensions, created bare and bound in create_app; SQLite connection set-up.

Which SQLite transactions begin with BEGIN IMMEDIATE is decided in blog.transactions.
"""

import sqlite3

from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from blog.models import Base

# Each SQLite connection's page cache, in KiB (SQLite's default is 2,000). A web worker holds
# two connections (requests, the mail sender), each filling its cache: at the default that was
# about 3.5 MB of each worker's memory (bench/memory.py). Pages not cached come from the OS's
# file cache at a few microseconds each, and every write by another process empties the cache
# anyway (WAL); measured, reader pages cost the same CPU with 512 KiB as with 2,000.
SQLITE_PAGE_CACHE_KIB = 512

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
mailer = Mail()  # Flask-Mail: its settings and connection carry every mail (blog.mail)
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Turn on foreign keys and WAL (the busy timeout is connect_args), and own BEGIN."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own transaction handling would defer BEGIN; blog.transactions emits it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
    cursor.close()
