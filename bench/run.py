"""Benchmark the reader pages side by side with Ghost and a bare Flask "hello", and write
docs/benchmarks.md.

    .venv/bin/python bench/run.py                       # 2,000 posts; Ghost if it answers on :2368
    .venv/bin/python bench/run.py --scale-posts 100000 --mail   # and the 100,000-post and mail runs
    .venv/bin/python bench/run.py --duration 3 --no-write       # a quick look; docs untouched

Builds a demo blog in a temporary instance folder (`flask --app blog demo --posts N`, SQLite) and
serves it twice with gunicorn (2 sync workers, wsgi:app): once with the response cache off and
once with it on. bench/hello.py is served the same way, and Ghost (set up by
../shared/peers/ghost/setup.sh, already running) is measured with the same wrk flags in the same
run, the pages interleaved round by round. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import quote

from harness import (
    HOST,
    ROOT,
    Result,
    Server,
    get,
    git_revision,
    load_average,
    memory_of,
    run_wrk,
    summarise,
)
from report import report

HX = "HX-Request: true"
GHOST_POST = "/people-and-they-and-room-1000/"  # the post ../shared/peers/ghost measured


@dataclass(frozen=True)
class Page:
    """One page to load: its label, path, extra wrk headers, and Ghost's page of the same kind."""

    label: str
    path: str
    headers: tuple = ()
    ghost: str = "`/`"  # the Ghost page it is compared with (Ghost has no deep page, no fragment)


@dataclass
class Target:
    """A measured server: its name, base URL and pages."""

    name: str
    base: str
    pages: list[Page]


# --- The blog --------------------------------------------------------------------------------


def build_blog(instance: Path, posts: int) -> float:
    """Fill a fresh instance with the demo content; return the seconds it took."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "blog", "demo", "--posts", str(posts)],
        cwd=ROOT,
        env=blog_env(instance),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=max(600, posts // 50),
    )
    return time.monotonic() - started


DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"


def server_env() -> dict:
    """The environment every measured gunicorn runs in, as deploy/blog-web.service runs the
    blog: docstrings and asserts stripped (PYTHONOPTIMIZE=2), and bytecode cached on disk as
    on any server that has started once (a PYTHONDONTWRITEBYTECODE from the shell is dropped;
    prime_bytecode writes the cache before the cold starts are timed)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONOPTIMIZE"] = "2"
    return env


def prime_bytecode() -> None:
    """Write the optimised bytecode of the blog, the hello app and the venv's packages, as
    docs/deploy.md's install step does (`python -OO -m compileall`)."""
    folders = [
        ROOT / "blog",
        ROOT / "wsgi.py",
        ROOT / "bench" / "hello.py",
        Path(sys.prefix) / "lib",
    ]
    subprocess.run(
        [sys.executable, "-OO", "-m", "compileall", "-q", "-j", "0", *map(str, folders)],
        check=False,  # a file that does not compile (a test fixture in some package) is skipped
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


def blog_env(instance: Path, cache: str = "off") -> dict:
    """The environment for the blog: server_env(), the temporary instance, SQLite, no developer
    overrides, the response cache on or off (in process: no REDIS_URL), no mail sender thread."""
    env = {k: v for k, v in server_env().items() if not k.startswith("BLOG_")}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env["BLOG_INSTANCE_PATH"] = str(instance)
    env["BLOG_RESPONSE_CACHE"] = "true" if cache == "on" else "false"
    # As the README's production section runs it: the mail worker sends, not the web workers.
    env["BLOG_MAIL_BACKGROUND_SENDER"] = "false"
    return env


def text_of(url: str, headers: dict | None = None) -> str:
    status, _, body = get(url, headers)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return body.decode()


def blog_pages(base: str, posts: int, per_page: int) -> list[Page]:
    """Every kind of reader page, found from the home page."""
    home = text_of(base + "/")
    post = re.search(r'class="card__title"><a href="([^"]+)"', home).group(1)
    more = unescape(re.search(r'class="button read-more" href="([^"]+)"', home).group(1))
    article = text_of(base + post)
    author = re.search(r'href="(/author/[^"/]+/)"', article).group(1)
    tag = re.search(r'href="(/tag/[^"/]+/)"', article).group(1)
    word = re.search(r'class="card__title"><a [^>]+>(\w+)', home).group(1)
    last = math.ceil(posts / per_page)
    return [
        Page("`/`", "/", ghost="`/`"),
        Page("a post", post, ghost="a post"),
        Page("`/page/2/`", "/page/2/", ghost="`/page/2/`"),
        Page(f"last page `/page/{last}/`", f"/page/{last}/"),
        Page("`/page/2/` fragment (htmx)", more, (HX,)),
        Page("`/rss/`", "/rss/", ghost="`/rss/`"),
        Page("an author page", author, ghost="an author page"),
        Page("a tag page", tag),
        Page("`/sitemap.xml`", "/sitemap.xml"),
        Page(f"search `/search/?q={word.lower()}`", f"/search/?q={quote(word.lower())}"),
    ]


def ghost_pages(base: str) -> list[Page]:
    """The five pages ../shared/peers/ghost measures, under the labels our pages use."""
    status, _, _ = get(base + GHOST_POST)
    post = GHOST_POST
    if status != 200:
        post = re.search(r'href="(/[a-z0-9-]+-\d+/)"', text_of(base + "/")).group(1)
    return [
        Page("`/`", "/"),
        Page("a post", post),
        Page("`/page/2/`", "/page/2/"),
        Page("`/rss/`", "/rss/"),
        Page("an author page", "/author/peer/"),
    ]


def check_pages(target: Target) -> None:
    """Every page answers 200, and the fragment is a fragment (one request each)."""
    for page in target.pages:
        body = text_of(target.base + page.path, dict(h.split(": ", 1) for h in page.headers))
        if page.headers and "<html" in body:
            raise RuntimeError(f"{target.name}: {page.label} was a whole page to htmx")


def warm_up(target: Target, rounds: int = 10) -> None:
    """Let every worker import, compile templates and fill caches before measuring."""
    for _ in range(rounds):
        for page in target.pages:
            get(target.base + page.path, dict(h.split(": ", 1) for h in page.headers))


def repeat_poll(base: str, path: str = "/rss/") -> dict:
    """A feed reader's second poll: the validators of the first answer sent back."""
    status, headers, body = get(base + path)
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    again = {"If-None-Match": etag} if etag else {}
    if modified:
        again["If-Modified-Since"] = modified
    second, second_headers, second_body = get(base + path, again)
    return {
        "first": (status, len(body)),
        "second": (second, len(second_body)),
        "etag": etag,
        "last_modified": modified,
        "length_header": second_headers.get("Content-Length"),
    }


def ghost_answers(base: str) -> bool:
    try:
        return get(base + "/")[0] == 200
    except OSError:
        return False


def ghost_processes(scratch: Path) -> list[int]:
    """Ghost's node process and, with MariaDB, mariadbd: the pids setup.sh recorded."""
    pids = []
    for name in ("ghost.pid", "mariadb/run/mariadb.pid"):
        try:
            pid = int((scratch / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if Path(f"/proc/{pid}").exists():
            pids.append(pid)
    return pids


def cold_starts(env: dict, temp: Path, workers: int, times: int = 3) -> list[float]:
    """Start the blog times over: seconds from launching gunicorn to the first 200 on "/"."""
    found = []
    for number in range(times):
        server = Server.start("wsgi:app", env, ROOT, temp / f"cold-{number}.log", workers)
        found.append(server.cold_start)
        server.stop()
    return found


# --- Extra runs ------------------------------------------------------------------------------


def scale_section(posts: int, temp: Path) -> str:
    """bench/scale.py's table: the same pages at 2,000 and at posts posts."""
    out = temp / "scale.md"
    command = [sys.executable, str(ROOT / "bench" / "scale.py"), "--posts-large", str(posts)]
    command += ["--markdown-out", str(out)]
    print("$ " + " ".join(command[1:]), flush=True)
    subprocess.run(command, cwd=ROOT, check=True, timeout=1800)
    return out.read_text()


def mail_section(connections: int, temp: Path, write_doc: bool) -> str:
    """bench/mail_bench.py's figures (10,000 subscribers), on SQLite and on PostgreSQL when it
    answers; with write_doc each run also writes its row into docs/benchmarks-newsletter.md
    (only when this run's report goes to docs/benchmarks.md, so the two match)."""
    lines = []
    for database in (None, "postgresql+psycopg://postgres@127.0.0.1:5432/test"):
        command = [sys.executable, str(ROOT / "bench" / "mail_bench.py")]
        command += ["--connections", str(connections)]
        command += ["--database", database] if database else []
        command += [] if write_doc else ["--no-write"]
        shown = " ".join(["python", *(c for c in command[1:])]).replace(str(ROOT) + "/", "")
        print("$ " + shown, flush=True)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        print(done.stdout[-1500:], done.stderr[-1500:], flush=True)
        figures = [line for line in done.stdout.splitlines() if "mails/s" in line]
        if done.returncode or not figures:
            lines.append(f"- `{shown}` failed (exit {done.returncode}): {done.stderr[-300:]!r}")
            continue
        lines.append(f"- `{shown}`: {figures[-1]}")
    return "\n".join(lines)


# --- Main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000, help="demo posts (default 2000)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument(
        "--connections",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[16, 64],
        help="comma-separated wrk connection counts (default 16,64)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved runs per page")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--ghost", default=f"http://{HOST}:2368", help="Ghost's address")
    parser.add_argument(
        "--ghost-scratch",
        type=Path,
        default=Path("/work/ghost-scratch"),
        help="the folder given to ../shared/peers/ghost/setup.sh (its pid files)",
    )
    parser.add_argument("--ghost-db", default="MariaDB", help="Ghost's database, for the report")
    parser.add_argument("--no-ghost", action="store_true", help="leave Ghost out")
    parser.add_argument("--scale-posts", type=int, default=0, help="also run bench/scale.py")
    parser.add_argument("--mail", action="store_true", help="also run bench/mail_bench.py")
    parser.add_argument("--mail-connections", type=int, default=4, help="SMTP connections")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the report to write")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.posts <= 1_000_000:
        parser.error("--duration must be 1..600 s and --posts 1..1,000,000")
    if not all(2 <= c <= 1000 for c in args.connections) or not 1 <= args.workers <= 16:
        parser.error("--connections must be 2..1000 each and --workers 1..16")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be 1..10")
    if not args.ghost.startswith(f"http://{HOST}:"):
        parser.error(f"--ghost must be on {HOST}")
    return args


def main() -> None:
    args = parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True, timeout=5).returncode:
        sys.exit("wrk is not installed: apt-get install wrk")
    sys.path.insert(0, str(ROOT))
    from blog.config import Defaults

    per_page = Defaults.POSTS_PER_PAGE
    run = {"revision": git_revision(), "per_page": per_page, "load_before": load_average()}
    run["command"] = "python bench/run.py " + " ".join(sys.argv[1:])
    ghost_up = not args.no_ghost and ghost_answers(args.ghost)
    if not args.no_ghost and not ghost_up:
        sys.exit(
            f"Ghost does not answer at {args.ghost} (../shared/peers/ghost/setup.sh; or --no-ghost)"
        )
    with tempfile.TemporaryDirectory(prefix="blog-bench-") as temp, ExitStack() as servers:
        temp = Path(temp)
        instance = temp / "instance"
        print(f"Writing {args.posts:,} demo posts into {instance} ...", flush=True)
        run["build_seconds"] = build_blog(instance, args.posts)
        print(f"  done in {run['build_seconds']:.1f} s", flush=True)
        prime_bytecode()
        run["cold_starts"] = cold_starts(blog_env(instance), temp, args.workers)
        print("cold starts: " + ", ".join(f"{s:.2f} s" for s in run["cold_starts"]), flush=True)

        started = {}
        for name, app, env, workdir in (
            ("hello", "hello:app", server_env(), ROOT / "bench"),
            ("uncached", "wsgi:app", blog_env(instance, "off"), ROOT),
            ("cached", "wsgi:app", blog_env(instance, "on"), ROOT),
        ):
            started[name] = Server.start(
                app, env, workdir, temp / f"{name}.log", 2 if name == "hello" else args.workers
            )
            servers.callback(started[name].stop)
        pages = blog_pages(started["uncached"].base, args.posts, per_page)
        targets = [
            Target("hello", started["hello"].base, [Page("hello", "/")]),
            Target("uncached", started["uncached"].base, list(pages)),
            Target("cached", started["cached"].base, list(pages)),
        ]
        if ghost_up:
            targets.append(Target("ghost", args.ghost, ghost_pages(args.ghost)))
        for target in targets:
            check_pages(target)
            warm_up(target, 3 if target.name == "ghost" else 10)
        etag = get(started["cached"].base + "/rss/")[1].get("ETag")
        poll = Page("`/rss/` repeat poll (304)", "/rss/", (f"If-None-Match: {etag}",))
        targets[2].pages.append(poll)
        run["poll"] = repeat_poll(started["cached"].base)
        run["poll_uncached"] = repeat_poll(started["uncached"].base)

        runs: dict[tuple[str, str, int], list[Result]] = {}
        for connections in args.connections:
            for number in range(args.rounds):
                print(
                    f"round {number + 1} of {args.rounds}, {connections} connections:", flush=True
                )
                for target in targets:
                    for page in target.pages:
                        result = run_wrk(
                            f"{target.name} {page.label}",
                            target.base + page.path,
                            connections,
                            args.duration,
                            page.headers,
                        )
                        runs.setdefault((target.name, page.label, connections), []).append(result)
            result = run_wrk("hello", targets[0].base + "/", connections, args.duration)
            runs[("hello", "hello", connections)].append(result)  # hello closes each count
        run["results"] = {key: summarise(value) for key, value in runs.items()}
        run["memory"] = {name: server.measure_memory() for name, server in started.items()}
        if ghost_up:
            run["memory"]["ghost"] = memory_of(ghost_processes(args.ghost_scratch))
        for server in started.values():
            server.stop()
        if args.scale_posts:
            run["scale"] = scale_section(args.scale_posts, temp)
        if args.mail:
            to_docs = not args.no_write and args.out.resolve() == DEFAULT_OUT.resolve()
            run["mail"] = mail_section(args.mail_connections, temp, to_docs)
    run["load_after"] = load_average()
    text = report(args, run, pages, ghost_up)
    print()
    print(text)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
