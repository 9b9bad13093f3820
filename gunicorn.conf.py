"""Gunicorn settings for the blog: `gunicorn` in this folder (or `gunicorn -c gunicorn.conf.py`)
serves wsgi:app with them. Every value can be changed from the environment, as noted.

Workers are processes: one per CPU this process may use (WEB_CONCURRENCY overrides), at least
two, so one slow request never stalls the site.

The app is loaded once, in the master, and the workers are forked from it (preload_app): they
share its memory until they write to it, and start in milliseconds instead of each importing the
app (about 0.5 s of CPU each). wsgi.py freezes the garbage collector's view of the loaded app
before the fork (else each collection would copy every shared page) and drops pooled database
connections in each forked child; nothing opens one before the fork. Measured with
bench/memory.py (2 workers, 2,000 posts, after 10 s of reader load, PSS summed over master and
workers): 111 MB with preload against 121 MB without (128 MB before this file preloaded); the
first 200 0.6-1.1 s after launch against 1.5-2 s, as workers no longer import the app. What
preload costs: SIGHUP (`systemctl reload`) starts new workers from the master's copy of the
app, so after a code update restart the service instead (docs/deploy.md), or set
BLOG_PRELOAD=false to load the app in each worker and keep HUP reloads of new code.

Run it as `PYTHONOPTIMIZE=2 gunicorn` (deploy/blog-web.service does): the loaded code then has
no docstrings or asserts, about 5 MB less for master and two workers. A config file cannot set
that; the interpreter has compiled its first modules by the time it is read.
"""

import os

wsgi_app = "wsgi:app"
bind = os.environ.get("BLOG_BIND", "127.0.0.1:8000")  # a TLS proxy in front; "0.0.0.0:8000" behind a load balancer
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, len(os.sched_getaffinity(0))))
# Gunicorn's sync worker, closing a connection at once when nothing is left to read, where
# gunicorn would wait for the client to close first (blog/gunicorn_sync.py).
worker_class = "blog.gunicorn_sync.SyncWorker"
preload_app = os.environ.get("BLOG_PRELOAD", "true").lower() not in ("0", "false", "no", "off")
if preload_app:  # wsgi.py serves the reader pages once in the master, for the workers to share
    os.environ.setdefault("BLOG_WARM_BEFORE_FORK", "1")
timeout = int(os.environ.get("BLOG_TIMEOUT", "30"))  # a worker silent this long is restarted
graceful_timeout = 30  # on SIGTERM / SIGHUP, requests in flight get this long to finish
keepalive = 5  # seconds a proxy's idle connection is kept (sync workers close after each response)
max_requests = 20_000  # recycle workers now and then, with jitter so they do not restart together
max_requests_jitter = 2_000
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat off the disk
accesslog = os.environ.get("BLOG_ACCESS_LOG", "-")  # "-": stdout (journald under systemd)
errorlog = "-"
loglevel = os.environ.get("BLOG_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Who may set X-Forwarded-* for gunicorn itself; the app trusts them only with TRUSTED_PROXIES.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "blog"
