"""Measure the blog server's memory after a load over the reader pages, and its cold start.

    .venv/bin/python bench/memory.py                        # cache off, then on; 2,000 posts
    .venv/bin/python bench/memory.py --cache off --runs 3   # three servers, one after another
    .venv/bin/python bench/memory.py --instance /tmp/blog-mem --config production --preload

Builds a demo blog in a temporary instance folder (`flask --app blog demo --posts N`, SQLite;
`--instance DIR` keeps and reuses it), then for each run starts gunicorn with 2 sync workers on
a free 127.0.0.1 port, exactly as bench/run.py does (`-c bench/gunicorn.conf.py -w 2 -k sync`;
`--config production` uses the top-level gunicorn.conf.py instead), and reports:

- cold start: seconds from launching gunicorn to the first 200 on `/` (polled every 10 ms), and
  how long that first request itself took;
- memory after `--seconds` of wrk (16 connections) cycling over the reader pages (`/`, a post,
  `/page/2/`, the last page, `/rss/`, the sitemaps, a tag, an author, a search, the htmx "Read
  More" fragment): VmRSS and PSS (/proc/<pid>/smaps_rollup) summed over master and workers,
  and each process's own figures.

Talks to 127.0.0.1 only; every wait is bounded and the servers are stopped on any error.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import HOST, ROOT, Server, blog_env, blog_pages, build_blog, prime_bytecode  # noqa: E402
from run import text_of as get  # noqa: E402

LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  local p = paths[(counter %% #paths) + 1]
  if p[2] then
    return wrk.format("GET", p[1], {["HX-Request"] = "true"})
  end
  return wrk.format("GET", p[1])
end
"""


def reader_paths(base: str, posts: int, per_page: int) -> list[tuple[str, bool]]:
    """The pages of the load, as bench/run.py measures them plus a post sitemap file:
    (path, is an htmx request)."""
    paths = [(page.path, bool(page.headers)) for page in blog_pages(base, posts, per_page)]
    part = re.search(r"<loc>https?://[^/]+(/sitemap-posts[^<]*)</loc>", get(base + "/sitemap.xml"))
    return paths + ([(part.group(1), False)] if part else [])


def lua_script(paths: list[tuple[str, bool]]) -> str:
    """wrk's script: each request takes the next path in turn (htmx ones with HX-Request)."""
    rows = (f"{{{json.dumps(path)}, {'true' if htmx else 'false'}}}" for path, htmx in paths)
    return LUA % ", ".join(rows)


def start(env: dict, log: Path, config: str, preload: bool, workers: int) -> tuple[Server, dict]:
    """Start gunicorn; return the server and its cold-start figures (seconds)."""
    conf = ROOT / ("gunicorn.conf.py" if config == "production" else "bench/gunicorn.conf.py")
    command = [sys.executable, "-m", "gunicorn", "-c", str(conf), "-w", str(workers)]
    command += ["-k", "sync", "-b", f"{HOST}:0", "--chdir", str(ROOT)]
    command += ["--preload"] if preload else []
    command += ["--access-logfile", "/dev/null"] if config == "production" else []
    command += ["wsgi:app"]
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Server(process, log)
    try:
        while time.monotonic() - started < 30:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{log.read_text()}")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
            if found:
                server.base = f"http://{HOST}:{found.group(1)}"
                asked = time.monotonic()
                try:
                    with urllib.request.urlopen(server.base + "/", timeout=10) as response:
                        if response.status == 200:
                            now = time.monotonic()
                            return server, {"cold_start": now - started, "first": now - asked}
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")
    except BaseException:
        server.stop()
        raise


def per_process(server: Server) -> list[dict]:
    rows = []
    for pid in server.pids():
        status = Path(f"/proc/{pid}/status").read_text()
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        field = lambda text, name: int(re.search(rf"{name}:\s+(\d+) kB", text).group(1)) / 1024  # noqa: E731
        rows.append(
            {
                "pid": pid,
                "rss": field(status, "VmRSS"),
                "pss": field(rollup, "Pss"),
                "private": field(rollup, "Private_Dirty") + field(rollup, "Private_Clean"),
            }
        )
    return rows


def one_run(args, instance: Path, cache: str, log: Path) -> dict:
    env = blog_env(instance, cache)
    server, timing = start(env, log, args.config, args.preload, args.workers)
    try:
        idle = server.measure_memory()
        paths = reader_paths(server.base, args.posts, 12)
        script = log.with_suffix(".lua")
        script.write_text(lua_script(paths))
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c16",
                f"-d{args.seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                server.base + "/",
            ],
            capture_output=True,
            text=True,
            timeout=args.seconds + 60,
            check=True,
        ).stdout
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        memory = server.measure_memory()
        return {
            **timing,
            "idle": idle,
            "after": memory,
            "requests": requests,
            "non_2xx": int(bad.group(1)) if bad else 0,
            "processes": per_process(server),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--cache", choices=["off", "on", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1, choices=range(1, 11))
    parser.add_argument("--seconds", type=int, default=10, choices=range(1, 121))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--config", choices=["bench", "production"], default="bench")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload")
    parser.add_argument("--instance", type=Path, help="keep the demo blog here and reuse it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="blog-memory-") as temp:
        temp = Path(temp)
        instance = args.instance or temp / "instance"
        if not (instance / "blog.sqlite").exists():
            print(f"Writing {args.posts:,} demo posts into {instance} ...", flush=True)
            build_blog(instance, args.posts)
        caches = ["off", "on"] if args.cache == "both" else [args.cache]
        prime_bytecode()  # as a deployed server has it (docs/deploy.md)
        for cache in caches:
            runs = [
                one_run(args, instance, cache, temp / f"{cache}-{n}.log") for n in range(args.runs)
            ]
            for run in runs:
                procs = ", ".join(
                    f"{p['pss']:.1f}/{p['rss']:.1f}/{p['private']:.1f}" for p in run["processes"]
                )
                print(
                    f"cache {cache}: cold start {run['cold_start']:.3f} s (first request "
                    f"{run['first'] * 1000:.0f} ms); idle {run['idle']['pss_mb']:.1f} MB PSS / "
                    f"{run['idle']['rss_mb']:.1f} MB RSS; after {run['requests']} requests "
                    f"({run['non_2xx']} non-2xx): {run['after']['pss_mb']:.1f} MB PSS / "
                    f"{run['after']['rss_mb']:.1f} MB RSS  [PSS/RSS/private per process: {procs}]",
                    flush=True,
                )
            if len(runs) > 1:
                print(
                    f"cache {cache}, median of {len(runs)}: cold start "
                    f"{statistics.median(r['cold_start'] for r in runs):.3f} s, "
                    f"{statistics.median(r['after']['pss_mb'] for r in runs):.1f} MB PSS, "
                    f"{statistics.median(r['after']['rss_mb'] for r in runs):.1f} MB RSS",
                    flush=True,
                )


if __name__ == "__main__":
    main()
