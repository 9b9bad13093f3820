"""Default settings: plain values, no I/O. Instance config and BLOG_* env vars override them."""

import os


class Defaults:
    SQLALCHEMY_DATABASE_URI = "sqlite:///blog.sqlite"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 5000

    # The canonical address of the blog; links in mail and feeds are built from it.
    SITE_URL = "http://127.0.0.1:5000"
    SITE_TITLE = "The Daily Draft"
    SITE_DESCRIPTION = "Thoughts, stories and ideas from a small team of writers."
    SITE_LANGUAGE = "en"
    SITE_ACCENT_COLOR = "#ff1a75"
    SITE_NAVIGATION = [
        {"label": "Home", "url": "/"},
        {"label": "About", "url": "/about/"},
        {"label": "Newsletter", "url": "/newsletter/"},
    ]
    SITE_LOGO = None
    SITE_ICON = None  # the favicon, a site path or URL; None serves static/img/favicon.ico
    # URLs per sitemap file: 1,000 as Yoast SEO splits them (the protocol allows 50,000, Ghost's
    # choice), so a crawler's fetch of any file costs the same at 2,000 posts as at 100,000.
    SITEMAP_URLS_PER_FILE = 1_000
    SITEMAP_CACHE_SECONDS = 300  # how long a worker reuses a sitemap it built
    POSTS_PER_PAGE = 12

    # Newsletter: who mail comes from (None: the site title and noreply@ the site's host),
    # and domains whose addresses may not subscribe.
    NEWSLETTER_SENDER_NAME = None
    NEWSLETTER_SENDER_EMAIL = None
    # Where replies to newsletters and confirmation mails go (Reply-To); None: the sender
    # address when one is set, else no Reply-To. The settings screen can override it.
    NEWSLETTER_REPLY_TO = None
    NEWSLETTER_BLOCKED_DOMAINS: list[str] = []
    # Subscribe limits (blog.ratelimits rules) per client IP and per address; how many
    # confirmation mails one address may get in 24 hours; how long a confirmation link lives.
    NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP = "10 per minute; 100 per day"
    NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS = "5 per minute; 20 per day"
    NEWSLETTER_CONFIRMATIONS_PER_DAY = 3
    NEWSLETTER_CONFIRM_HOURS = 24
    NEWSLETTER_CHECK_DELIVERABILITY = False  # True: look up the domain's MX record (DNS)
    # Host names a request may carry; None derives them from SITE_URL plus localhost.
    TRUSTED_HOSTS = None
    # How many reverse proxies in front of the app to believe about the client's address and
    # scheme (X-Forwarded-For/-Proto, via Werkzeug's ProxyFix). 0: the headers are ignored.
    TRUSTED_PROXIES = 0

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = None  # None: follow SITE_URL's scheme
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    MAX_FORM_PARTS = 1000  # fields in one form, multipart or url-encoded (blog.security)
    # A url-encoded form's whole body: a 500,000-character post in a non-Latin script,
    # percent-encoded, takes up to 4.5 MB.
    MAX_URLENCODED_FORM_SIZE = 5 * 1024 * 1024

    # Mail: with no MAIL_SERVER, messages are written to instance/mail/ as .eml files.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = None
    MAIL_TIMEOUT = 30  # seconds an SMTP connection may stall before the message is retried
    MAIL_MAX_EMAILS = 500  # messages per SMTP connection before it is reopened
    # The outbox sender: an in-process thread by default (set False when `flask worker` runs),
    # how often it looks for due mail, how many rows it claims at once and for how long,
    # and the retry back-off for mail the SMTP server could not take yet.
    MAIL_BACKGROUND_SENDER = True
    MAIL_CONNECTIONS = 4  # SMTP connections `flask worker` sends over at once (threads)
    MAIL_POLL_SECONDS = 5
    MAIL_BATCH_SIZE = 50
    MAIL_LEASE_SECONDS = 120
    MAIL_RETRY_BASE_SECONDS = 30
    MAIL_RETRY_MAX_SECONDS = 3600
    MAIL_GIVE_UP_HOURS = 72

    # Staff sign-in: failed attempts allowed per account from one client address, and per
    # client address, within the window (seconds),
    # password reset links' lifetime and request limits (per hour), invites' lifetime (days).
    LOGIN_FAILURE_WINDOW = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_IP = 20
    PASSWORD_RESET_MAX_AGE = 60 * 60
    PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    PASSWORD_RESET_LIMIT_PER_IP = 10
    INVITE_MAX_AGE_DAYS = 7
    # CSRF tokens live as long as the session: an editor left open for hours can still save.
    WTF_CSRF_TIME_LIMIT = None
    # How long a worker reuses the settings screen's values before reading them again.
    SETTINGS_CACHE_SECONDS = 5

    # Image uploads, stored re-encoded under instance/<UPLOAD_FOLDER>, in these widths.
    UPLOAD_FOLDER = "uploads"
    IMAGE_MAX_BYTES = 10 * 1024 * 1024
    IMAGE_MAX_PIXELS = 40_000_000
    IMAGE_WIDTHS = (480, 960, 1600, 2400)
    # With S3_BUCKET set, uploads live in S3-compatible object storage instead (blog.storage);
    # unset keys fall back to boto3's own (AWS_* variables, ~/.aws).
    S3_BUCKET = None
    S3_PREFIX = "uploads/"
    S3_ENDPOINT_URL = None
    S3_REGION = None
    S3_ACCESS_KEY_ID = None
    S3_SECRET_ACCESS_KEY = None

    # Rate limits (blog.ratelimits) and the response cache live in Redis when REDIS_URL is
    # set (limits under keys starting with RATELIMIT_KEY_PREFIX), else in the database.
    REDIS_URL = None
    RATELIMIT_KEY_PREFIX = "blog-limits"

    # Reader pages: how long browsers and proxies may keep an anonymous page (seconds) before
    # asking again (a 304 when nothing changed), and the response cache for anonymous readers:
    # None turns it on except under TESTING; kept in this process (at most MAX_BYTES), and in
    # Redis for TTL seconds when REDIS_URL is set, under keys starting with PREFIX.
    HTTP_CACHE_MAX_AGE = 60
    # Static files under their plain names (fingerprinted names are cached for ten years).
    STATIC_MAX_AGE = 3600
    RESPONSE_CACHE = None
    RESPONSE_CACHE_MAX_BYTES = 16 * 1024 * 1024
    RESPONSE_CACHE_TTL = 600
    RESPONSE_CACHE_PREFIX = "blog:"


def derive(app) -> None:
    """Fill in settings that follow from others (cookie security, hosts, SQLite options)."""
    from urllib.parse import urlsplit

    cfg = app.config
    site = urlsplit(cfg["SITE_URL"])
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = site.scheme == "https"
        cfg["REMEMBER_COOKIE_SECURE"] = site.scheme == "https"
    if cfg.get("TRUSTED_HOSTS") is None and not cfg.get("TESTING"):
        cfg["TRUSTED_HOSTS"] = sorted({site.hostname or "localhost", "localhost", "127.0.0.1"})
    if not cfg.get("MAIL_DEFAULT_SENDER"):
        cfg["MAIL_DEFAULT_SENDER"] = f"{cfg['SITE_TITLE']} <noreply@{site.hostname or 'localhost'}>"
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        uri = cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    if uri.startswith("sqlite"):
        options = cfg["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        )
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("timeout", cfg.get("SQLITE_BUSY_TIMEOUT_MS", 5000) / 1000)
    else:
        options = cfg["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        )
        options.setdefault("pool_pre_ping", True)


# Settings that are text whatever they look like: Flask's from_prefixed_env reads every value
# as JSON where it parses, so BLOG_MAIL_PASSWORD=12345678 became the int 12345678 and an S3
# secret "1e10" the float 1e10.
_SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "USERNAME", "TOKEN")


def keep_env_strings(config, prefix: str = "BLOG", environ=None) -> None:
    """Put back, as the raw strings they were, the prefixed environment values that
    from_prefixed_env parsed as JSON for a setting that is text: one whose default is a
    string, or whose name holds PASSWORD, SECRET, KEY, USERNAME or TOKEN. Nested
    (`__`) keys are left alone."""
    environ = os.environ if environ is None else environ
    for name, raw in environ.items():
        if not name.startswith(f"{prefix}_") or "__" in name:
            continue
        key = name[len(prefix) + 1 :]
        default = getattr(Defaults, key, None)
        if isinstance(default, str) or any(word in key for word in _SECRET_WORDS):
            if not isinstance(config.get(key), str):
                config[key] = raw
