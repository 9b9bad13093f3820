"""The blog: a Flask application factory that wires every part together."""

import os
import secrets
from pathlib import Path

from flask import Flask, request, request_started, request_tearing_down

from blog import (
    assets,
    backup,
    bidi,
    bounds,
    cache,
    config,
    errors,
    htmx,
    links,
    security,
    serving,
    site,
    transactions,
    xmlchars,
)
from blog.extensions import csrf, db, login_manager, mailer
from blog.templating import BlogEnvironment


class Blog(Flask):
    """Flask, remembering which functions it may call as they are, and rendering templates
    with a quicker autoescape (blog.templating).

    Flask asks inspect whether each view and request hook is a coroutine every time it calls
    one: sixteen times a request here, about 1% of an uncached page. None of ours is one.
    """

    jinja_environment = BlogEnvironment

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict = {}

    def ensure_sync(self, func):
        synced = self._sync_functions.get(func)
        if synced is None:
            synced = self._sync_functions[func] = super().ensure_sync(func)
        return synced


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance config and environment (or test_config)."""
    app = Blog(
        __name__,
        instance_path=os.environ.get("BLOG_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config.Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("BLOG")
        config.keep_env_strings(app.config, "BLOG")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _load_or_create_secret_key(Path(app.instance_path))
    config.derive(app)

    db.init_app(app)
    mailer.init_app(app)  # Flask-Mail: blog.mail composes its Messages, sends over its connection
    csrf.init_app(app)
    login_manager.init_app(app)
    _wire_transactions(app)

    from blog import accounts, admin, api, authors, cli, newsletter, posts  # noqa: F401 (accounts: user loader)
    from blog.ghost import views as ghost_views
    from blog.mail import commands as mail_commands
    from blog.mail import sender as mail_sender
    from blog.posts.search import indexer as search_indexer

    bounds.init_app(app)  # before the blueprints: their <int:...> rules use it
    app.register_blueprint(newsletter.bp)
    newsletter.init_app(app)  # import-subscribers, export-subscribers
    app.register_blueprint(authors.bp)
    authors.init_app(app)  # staff sessions end when the password changes
    app.register_blueprint(admin.bp)
    admin.init_app(app)  # where admin.bp's app-wide hooks stood: hook order is kept
    app.register_blueprint(api.bp)  # Ghost's Content API, /ghost/api/content/
    app.register_blueprint(ghost_views.bp)  # imported Ghost images at /content/images/...
    app.register_blueprint(posts.bp)  # last: its /<slug>/ route catches what is left
    posts.init_app(app)
    htmx.init_app(app)
    site.init_app(app)
    security.init_app(app)
    xmlchars.init_app(app)
    bidi.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    mail_sender.init_app(app)  # the outbox's sender thread, started and woken by requests
    mail_commands.init_app(app)  # flask worker, flask send-newsletter
    search_indexer.init_app(app)
    backup.init_app(app)
    links.init_app(app)  # after every url_defaults hook (assets' is below: it runs per build)
    cache.init_app(app)  # last: it wraps the finished app
    assets.init_app(app)  # outside the cache: static files never reach Flask
    serving.init_app(app)  # outermost: health checks
    return app


def _wire_transactions(app: Flask) -> None:
    """Tell blog.transactions when each request starts (with its method) and ends, so SQLite
    transactions know whether they may write. request_started comes before every
    before_request hook, request_tearing_down after every teardown."""

    @request_started.connect_via(app)
    def _started(sender: Flask, **extra) -> None:
        transactions.request_started(request.method)

    @request_tearing_down.connect_via(app)
    def _ended(sender: Flask, **extra) -> None:
        transactions.request_ended()


def _load_or_create_secret_key(instance: Path) -> str:
    """Read the instance's secret key, writing a new random one on first run."""
    path = instance / "secret_key"
    if not path.exists():
        # Write aside, then link into place: several workers starting at once agree on one key.
        draft = instance / f".secret_key.{os.getpid()}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
