"""The WSGI entry point: `gunicorn` (gunicorn.conf.py) or any WSGI server serves wsgi:app.

Under gunicorn.conf.py's preload_app this module runs once, in the master, and the workers are
forked from it, sharing its memory until they write to it. So, before the fork:

- the garbage collector is off while the app is built (no holes freed among the objects every
  worker shares), and gc.freeze() then moves everything built so far out of the collector's
  sight: a collection in a worker would otherwise write to every shared object's header and copy
  each page (Instagram's finding; measured here: 143 -> 117 MB PSS for master + 2 workers);
- what the first reader request would build lazily is built once: SQLAlchemy's mapper
  configuration, Werkzeug's URL matcher, the reader pages' compiled templates;
- no database connection is open (nothing above opens one), and every engine's pool is dropped
  in the child after any fork all the same, so no connection is ever shared between processes;
- under preload, last, every hole left free in the C heap is taken (blog.prefork): a worker's
  malloc would otherwise fill them, each copying a shared page (bench/memory.py, cache off:
  102-105 -> 95 MB PSS for master and two workers after the load).

Under preload the master also serves the main reader pages a few times first
(serve_reader_pages), so the workers share what running them builds. Without preload
(`BLOG_PRELOAD=false`) each worker runs this module itself: the same steps but that one, paid
at its start instead of by its first request.
"""

import gc
import os
import re

from flask import Flask
from sqlalchemy.orm import configure_mappers

from blog import create_app
from blog.extensions import db
from blog.prefork import fill_heap_holes

# The templates of the pages readers ask for; staff screens compile on first use.
READER_TEMPLATES = ("base.html", "posts/", "errors/", "newsletter/_subscribe")


def warm_up(app: Flask) -> None:
    """Build now what the first request would build: mappers, URL matcher, reader templates."""
    configure_mappers()
    app.url_map.update()
    for name in app.jinja_env.list_templates():
        if name.startswith(READER_TEMPLATES):
            app.jinja_env.get_template(name)


def serve_reader_pages(app: Flask, passes: int = 3) -> None:
    """Serve the main reader pages a few times in this process before the workers are forked
    from it (gunicorn.conf.py sets BLOG_WARM_BEFORE_FORK under preload_app).

    What a request builds the first times it runs, every worker would otherwise build and keep
    apart: CPython's specialised bytecode (written into each code object after a few calls),
    SQLAlchemy's compiled statements, Jinja's and Werkzeug's lazy state. Built here, the
    workers share it: 112 -> 105 MB PSS for master and two workers after a reader load
    (docs/benchmarks.md), for about 0.2 s at start. Reader GETs write nothing but the
    generation file; the mail sender is kept from starting (no thread may run at a fork), and
    every database connection is closed afterwards. A page that fails ends the warm-up only.
    """
    sending = app.config["MAIL_BACKGROUND_SENDER"]
    app.config["MAIL_BACKGROUND_SENDER"] = False
    try:
        client = app.test_client()
        home = client.get("/")
        if home.status_code != 200:
            return  # no database yet (init-db not run): nothing to warm
        paths = ["/", "/page/2/", "/rss/", "/sitemap.xml", "/sitemap-posts.xml", "/search/?q=the"]
        found = re.search(r'class="card__title"><a href="(/[^"]+/)"', home.text)
        if found:  # the newest post, and its author's and first tag's pages
            post = client.get(found.group(1)).text
            paths.append(found.group(1))
            for kind in ("author", "tag"):
                link = re.search(rf'href="(/{kind}/[^"/]+/)"', post)
                paths += [link.group(1)] if link else []
        for _ in range(passes):
            for path in paths:
                client.get(path)
            client.get("/page/2/", headers={"HX-Request": "true"})
    except Exception:  # noqa: BLE001 - a warm-up never stops the server from starting
        pass
    finally:
        app.config["MAIL_BACKGROUND_SENDER"] = sending
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()  # closed here, in the master: none is open at the fork


def _drop_inherited_connections() -> None:
    """In a forked child: forget the parent's pooled connections without closing them (they
    are the parent's), as SQLAlchemy's guide to pools and os.fork() advises."""
    for engine in _engines:
        engine.dispose(close=False)


gc.disable()
app = create_app()
warm_up(app)
if os.environ.get("BLOG_WARM_BEFORE_FORK") == "1":
    serve_reader_pages(app)
with app.app_context():
    _engines = list(db.engines.values())  # made by create_app, once: the same in every child
gc.freeze()
gc.enable()
if os.environ.get("BLOG_WARM_BEFORE_FORK") == "1":
    fill_heap_holes()  # last: what the workers malloc comes from fresh pages of their own
os.register_at_fork(after_in_child=_drop_inherited_connections)
