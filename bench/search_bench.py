"""Measure search and sitemaps at scale: milliseconds per /search/ request and per sitemap file.

    .venv/bin/python bench/search_bench.py                       # 100,000 posts, SQLite
    .venv/bin/python bench/search_bench.py --posts 20000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

It writes the demo content (`blog.demo.fill`, which indexes as it goes) into a throwaway
instance folder (SQLite) or a throwaway database on the given PostgreSQL server, then times
whole requests through the Flask test client (routing, query, template), so the figures are
what one worker spends per search. Everything runs in this process on 127.0.0.1 resources only;
the temporary folder and database are removed at the end. Prints a Markdown table.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What readers type: common words, two-word queries, a prefix being typed, no match at all.
QUERIES = ["notes", "harbour", "kitchen knives", "sourdough starters winter", "trai", "zzzqqq",
           "the map is not the territory", "rainy"]  # fmt: skip
ROUNDS = 15


def timed(client, path: str, rounds: int = ROUNDS, **headers) -> tuple[float, float, int]:
    """Return (median ms, max ms, status) of rounds GETs of path, after one warm-up."""
    response = client.get(path, headers=headers)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times), response.status_code


def run(url: str, posts: int, label: str) -> list[str]:
    """Fill the database at url with posts demo posts and time searches and sitemaps."""
    from blog import create_app, demo
    from blog.extensions import db

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "SITE_URL": "http://127.0.0.1"})  # fmt: skip
    rows = []
    with app.app_context():
        db.create_all()
        start = time.perf_counter()
        demo.fill(posts)
        filled = time.perf_counter() - start
        if db.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
        client = app.test_client()
        rows.append(f"| {label} | fill {posts:,} posts and index them | {filled:.1f} s | | |")
        for query in QUERIES:
            median, worst, status = timed(client, f"/search/?q={query}")
            rows.append(f"| {label} | `/search/?q={query}` ({status}) | {median:.1f} ms | "
                        f"{worst:.1f} ms | page |")  # fmt: skip
            median, worst, _ = timed(client, f"/search/?q={query}", **{"HX-Request": "true"})
            rows.append(f"| {label} | same, htmx fragment | {median:.1f} ms | {worst:.1f} ms |"
                        " fragment |")  # fmt: skip
        for path in ("/sitemap.xml", "/sitemap-posts.xml", "/sitemap-posts-2.xml",
                     "/sitemap-tags.xml", "/sitemap-authors.xml"):  # fmt: skip
            start = time.perf_counter()
            client.get(path)  # the first request builds the file; later ones reuse it
            built = (time.perf_counter() - start) * 1000
            median, worst, status = timed(client, path, rounds=3)
            rows.append(f"| {label} | `{path}` ({status}), first build | {built:.0f} ms | | |")
            rows.append(
                f"| {label} | same, kept by the worker | {median:.1f} ms | {worst:.1f} ms | |"
            )
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL to make a scratch database on")
    args = parser.parse_args()
    header = ["| database | request | median | slowest | |", "| --- | --- | --- | --- | --- |"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="blog-search-bench-") as temp:
        os.environ["BLOG_INSTANCE_PATH"] = str(Path(temp) / "instance")
        rows += run(f"sqlite:///{temp}/bench.sqlite", args.posts, "SQLite")
    if args.postgres:
        from sqlalchemy import create_engine, make_url, text

        name = f"blog_search_bench_{os.getpid()}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(False)
            with tempfile.TemporaryDirectory(prefix="blog-search-bench-") as temp:
                os.environ["BLOG_INSTANCE_PATH"] = str(Path(temp) / "instance")
                rows += run(url, args.posts, "PostgreSQL")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("\n".join(header + rows))


if __name__ == "__main__":
    main()
