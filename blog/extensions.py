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
    cursor.close()
