"""Gunicorn settings for the blog: `gunicorn` in this folder (or `gunicorn -c gunicorn.conf.py`)
serves wsgi:app with them. Every value can be changed from the environment, as noted.

Workers are processes: one per CPU this process may use (WEB_CONCURRENCY overrides), at least
two, so one slow request never stalls the site. Each worker connects to the database after the
fork (preload is off): a connection opened before fork must never be shared.
"""

import os

wsgi_app = "wsgi:app"
bind = os.environ.get("BLOG_BIND", "127.0.0.1:8000")  # a TLS proxy in front; "0.0.0.0:8000" behind a load balancer
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, len(os.sched_getaffinity(0))))
worker_class = "sync"
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
