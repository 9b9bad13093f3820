"""Alembic environment: migrate the app's database to the models' metadata."""

from alembic import context
from flask import current_app

from blog.models.search import include_name

config = context.config
db = current_app.extensions["migrate"].db


def run_migrations_online() -> None:
    """Run migrations on the app's engine (Flask-Migrate turns on batch mode for SQLite)."""
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            include_name=include_name,  # the search index has no model
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
