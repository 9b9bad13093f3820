"""Benchmark the reader pages against a bare Flask "hello", and write docs/benchmarks.md.

    .venv/bin/python bench/run.py                    # 2,000 demo posts, 10 s per measurement
    .venv/bin/python bench/run.py --posts 100000     # a big blog (the demo takes a few minutes)
    .venv/bin/python bench/run.py --cache on --out docs/benchmarks-cached.md   # response cache on

Builds a demo blog in a temporary instance folder (`flask --app blog demo --posts N`, SQLite),
then serves it with gunicorn (2 sync workers, wsgi:app) on a free 127.0.0.1 port, and drives it
with wrk at 16 and 64 connections. bench/hello.py is served and measured the same way in the same
run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script ever talks to
HX = "HX-Request: true"


# --- Servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn master we started, its log, and the address it listens on."""

    process: subprocess.Popen
    log: Path
    base: str = ""
    memory: dict = field(default_factory=dict)

    @classmethod
    def start(
        cls, app: str, env: dict, workdir: Path, log: Path, workers: int, preload: bool = False
    ) -> Server:
        """Start gunicorn on a port the OS picks, and wait until it answers (bounded)."""
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "bench" / "gunicorn.conf.py")]
        command += ["-w", str(workers), "-k", "sync"]
        command += ["-b", f"{HOST}:0", "--chdir", str(workdir)]
        command += ["--preload"] if preload else []
        command += [app]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: stopping it stops its workers
            )
        server = cls(process, log)
        try:
            server._wait_until_ready(workers)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_until_ready(self, workers: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1)):
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log.read_text()}")
            text = self.log.read_text(errors="replace")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            if found and text.count("Booting worker") >= workers:
                self.base = f"http://{HOST}:{found.group(1)}"
                try:
                    with urllib.request.urlopen(self.base + "/", timeout=5) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn did not answer within {timeout:.0f} s:\n{self.log.read_text()}"
        )

    def pids(self) -> list[int]:
        """The master and its workers (children found through /proc)."""
        master = self.process.pid
        pids = [master]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (after the parenthesised command name) is the parent's pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
        return pids

    def measure_memory(self) -> dict:
        """Sum VmRSS (and PSS, which splits shared pages fairly) over master and workers, MB."""
        rss = pss = 0
        pids = self.pids()
        for pid in pids:
            status = Path(f"/proc/{pid}/status").read_text()
            rss += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                pss += int(re.search(r"Pss:\s+(\d+) kB", rollup).group(1))
            except (OSError, AttributeError):
                pss = 0
        self.memory = {"processes": len(pids), "rss_mb": rss / 1024, "pss_mb": pss / 1024}
        return self.memory

    def stop(self) -> None:
        """SIGTERM the process group we started, then SIGKILL if it lingers (bounded)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass


# --- wrk -------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * UNITS[unit]


@dataclass
class Result:
    label: str
    connections: int
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    bytes_per_response: float
    low: float = 0.0  # the slowest and fastest round's requests/s, once summarised
    high: float = 0.0
    rounds: int = 1


def summarise(runs: list[Result]) -> Result:
    """The round with the median requests/s, carrying the spread and every round's errors."""
    ranked = sorted(runs, key=lambda r: r.rps)
    middle = ranked[(len(ranked) - 1) // 2]
    return replace(
        middle,
        errors=sum(r.errors for r in runs),
        low=ranked[0].rps,
        high=ranked[-1].rps,
        rounds=len(runs),
    )


def wrk(label: str, url: str, connections: int, seconds: int, headers=()) -> Result:
    """Run wrk once (bounded by -d and a subprocess timeout) and parse its --latency output."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"refusing to load anything but {HOST}: {url}")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    requests, read, unit = re.search(
        r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", out
    ).groups()
    size = float(read) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit]
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = (sum(map(int, socket.groups())) if socket else 0) + (
        int(non_2xx.group(1)) if non_2xx else 0
    )
    return Result(
        label=label,
        connections=connections,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50=to_ms(latency["50"]),
        p99=to_ms(latency["99"]),
        requests=int(requests),
        errors=errors,
        bytes_per_response=size / max(int(requests), 1),
    )


# --- The blog --------------------------------------------------------------------------------


def build_blog(instance: Path, posts: int) -> float:
    """Fill a fresh instance with the demo content; return the seconds it took."""
    env = blog_env(instance)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "blog", "demo", "--posts", str(posts)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=max(600, posts // 50),
    )
    return time.monotonic() - started


def blog_env(instance: Path, cache: str = "off") -> dict:
    """The environment for the blog: the temporary instance, SQLite, no developer overrides,
    the response cache on or off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOG_")}
    env.pop("DATABASE_URL", None)
    env["BLOG_INSTANCE_PATH"] = str(instance)
    env["BLOG_RESPONSE_CACHE"] = "true" if cache == "on" else "false"
    return env


def get(url: str, headers: dict | None = None) -> str:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def blog_paths(base: str, posts: int, per_page: int) -> list[tuple[str, str, tuple]]:
    """The pages to measure: (label, path, extra wrk headers)."""
    home = get(base + "/")
    post = re.search(r'class="card__title"><a href="([^"]+)"', home).group(1)
    more = unescape(re.search(r'class="button read-more" href="([^"]+)"', home).group(1))
    last = math.ceil(posts / per_page)
    return [
        ("`/`", "/", ()),
        ("a post", post, ()),
        ("`/page/2/`", "/page/2/", ()),
        (f"last page `/page/{last}/`", f"/page/{last}/", ()),
        ("`/page/2/` fragment (htmx)", more, (HX,)),
    ]


def check_pages(base: str, paths) -> None:
    """Every page answers 200, and the fragment is a fragment (bounded: one request each)."""
    for label, path, headers in paths:
        body = get(base + path, dict(h.split(": ", 1) for h in headers))
        if headers and "<html" in body:
            raise RuntimeError(f"{label} returned a whole page to an htmx request")
        if not headers and "</html>" not in body:
            raise RuntimeError(f"{label} did not return a whole page")


def warm_up(base: str, paths, rounds: int = 20) -> None:
    """Let both workers import, compile templates and fill caches before measuring."""
    for _ in range(rounds):
        for _label, path, headers in paths:
            get(base + path, dict(h.split(": ", 1) for h in headers))


# --- Report ----------------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    return f"{value:.1f} ms" if value >= 1 else f"{value * 1000:.0f} µs"


def baseline(hello_results: list[Result]) -> dict[int, float]:
    """Hello's requests/s per connection count (its median round)."""
    return {r.connections: r.rps for r in hello_results}


def memory_row(name: str, memory: dict) -> str:
    return (
        f"| {name} | {memory['processes']} | {memory['rss_mb']:.1f} MB "
        f"| {memory['pss_mb']:.1f} MB |"
    )


def report(args, run: dict, results: list[Result], hello_results: list[Result]) -> str:
    hello_rps = baseline(hello_results)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py`; bench/README.md says how to run it and where the time "
        "goes. Rerun it to refresh this page.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code at `{run['revision']}`",
        f"- Machine: nproc {nproc()} ({cpu_model()}), {platform.system()} {platform.release()}; "
        f"load average {run['load_before']:.2f} before the run, {run['load_after']:.2f} after "
        "(it includes this run's own load)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"gunicorn {version('gunicorn')}, Flask {version('flask')}, {wrk_version()}",
        f"- Blog: {args.posts:,} demo posts (`flask --app blog demo --posts {args.posts}`, "
        f"{run['build_seconds']:.1f} s) on SQLite in a temporary instance folder; "
        f"POSTS_PER_PAGE={run['per_page']}; "
        + ("response cache on (`RESPONSE_CACHE`, in process)" if args.cache == "on"
           else "no response cache (`BLOG_RESPONSE_CACHE=false`)"),
        f"- Servers: gunicorn, {args.workers} sync workers, `wsgi:app`; the baseline is "
        "`bench/hello.py` served the same way (2 sync workers), up during the same run",
        f"- Load: `wrk -t2 -c<N> -d{args.duration}s --latency` on 127.0.0.1, N = "
        + ", ".join(map(str, args.connections))
        + ". wrk shares the machine's CPUs with the server, and gunicorn's sync workers close "
        "every connection, so each request includes a TCP connect.",
        f"- Each cell: {args.rounds} rounds, interleaved (hello, then every page, per round; "
        "hello once more at the end); requests/s, p50 and p99 are the median round's, the "
        "range is the slowest and fastest round",
        f"- Command: `python bench/run.py --posts {args.posts} --duration {args.duration} "
        f"--rounds {args.rounds}`",
        "",
        "| page | connections | requests/s | range | p50 | p99 | vs hello | bytes/response "
        "| errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for connections in args.connections:
        hellos = [r for r in hello_results if r.connections == connections]
        pages = [r for r in results if r.connections == connections]
        for r in hellos + pages:
            share = r.rps / hello_rps[r.connections]
            lines.append(
                f"| {r.label} | {r.connections} | {r.rps:,.0f} | {r.low:,.0f}–{r.high:,.0f} "
                f"| {fmt_ms(r.p50)} | {fmt_ms(r.p99)} "
                f"| {'–' if r in hellos else f'1/{1 / share:.1f}'} "
                f"| {r.bytes_per_response:,.0f} | {r.errors} |"
            )
    lines += [
        "",
        "Memory after the run, summed over the gunicorn master and its workers. RSS counts "
        "pages that processes share (shared libraries, and with `--preload` the whole app) once "
        "per process; PSS divides each shared page among the processes that map it.",
        "",
        "| server | processes | RSS total | PSS total |",
        "| --- | ---: | ---: | ---: |",
        memory_row("hello", run["hello_memory"]),
        memory_row("blog", run["memory"]),
    ]
    if "preload_memory" in run:
        lines.append(
            memory_row("blog, `gunicorn --preload` (after a short load)", run["preload_memory"])
        )
    lines += ["", "## Targets (issue #2)", ""]
    for verdict, text in targets(results, hello_rps, run["memory"]):
        lines.append(f"- **{verdict}**: {text}")
    return "\n".join(lines) + "\n"


def targets(results, hello_rps, memory) -> list[tuple[str, str]]:
    """Check the issue's targets; return (met/missed, explanation) pairs."""
    checks = []
    slowest = min(results, key=lambda r: r.rps / hello_rps[r.connections])
    share = slowest.rps / hello_rps[slowest.connections]
    checks.append(
        (
            "met" if share >= 0.1 else "missed",
            f"every page at >= 1/10 of hello's requests/s: the slowest is {slowest.label} at "
            f"{slowest.connections} connections, 1/{1 / share:.1f} of hello",
        )
    )
    for connections in sorted({r.connections for r in results}):
        page2 = next(r for r in results if r.connections == connections and r.label == "`/page/2/`")
        last = next(r for r in results if r.connections == connections and "last" in r.label)
        ratio = last.rps / page2.rps
        # Rounds whose ranges overlap cannot tell the two pages apart on this machine.
        noise = (
            f"; the rounds' ranges overlap ({last.low:,.0f}–{last.high:,.0f} vs "
            f"{page2.low:,.0f}–{page2.high:,.0f}), so the difference is within this run's noise"
            if ratio < 0.9 and last.high >= page2.low
            else ""
        )
        checks.append(
            (
                "met" if ratio >= 0.9 else "missed",
                f"last page within 10% of `/page/2/` at {connections} connections: "
                f"{last.rps:,.0f} vs {page2.rps:,.0f} requests/s ({(ratio - 1) * 100:+.1f}%)"
                + noise,
            )
        )
    checks.append(
        (
            "met" if memory["rss_mb"] < 150 else "missed",
            f"resident memory under 150 MB for master and workers (RSS summed): "
            f"{memory['rss_mb']:.1f} MB ({memory['pss_mb']:.1f} MB PSS)",
        )
    )
    return checks


def load_average() -> float:
    """The one-minute load average (other work on the machine skews every figure)."""
    return os.getloadavg()[0]


def nproc() -> str:
    return subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else platform.machine()


def version(package: str) -> str:
    from importlib.metadata import version as installed

    return installed(package)


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
    found = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return f"wrk {found.group(1)}" if found else "wrk"


# --- Main ------------------------------------------------------------------------------------


def run_wrk(label: str, url: str, connections: int, seconds: int, headers=()) -> Result:
    result = wrk(label, url, connections, seconds, headers)
    print(
        f"  {label:<32} c={connections:<3} {result.rps:8.0f} req/s  "
        f"p50 {fmt_ms(result.p50):>9}  p99 {fmt_ms(result.p99):>9}  errors {result.errors}",
        flush=True,
    )
    return result


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000, help="demo posts (default 2000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--connections",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[16, 64],
        help="comma-separated wrk connection counts (default 16,64)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved wrk runs per page (median reported)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--cache", choices=("on", "off"), default="off", help="the response cache (default off)"
    )
    parser.add_argument(
        "--no-preload-check",
        action="store_true",
        help="skip the extra memory measurement of the blog under gunicorn --preload",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the report to write"
    )
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 1 <= args.posts <= 1_000_000:
        parser.error("--duration must be 1..600 s and --posts 1..1,000,000")
    if not all(2 <= c <= 1000 for c in args.connections) or not 1 <= args.workers <= 16:
        parser.error("--connections must be 2..1000 each and --workers 1..16")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be 1..10")
    if subprocess.run(["which", "wrk"], capture_output=True, timeout=5).returncode:
        sys.exit("wrk is not installed: apt-get install wrk")

    sys.path.insert(0, str(ROOT))
    from blog.config import Defaults

    per_page = Defaults.POSTS_PER_PAGE
    run = {"revision": git_revision(), "per_page": per_page, "load_before": load_average()}
    if run["load_before"] > 0.5 * (os.cpu_count() or 1):
        print(
            f"Note: the machine is busy (load average {run['load_before']:.2f}); the figures "
            "will say so.",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="blog-bench-") as temp, ExitStack() as servers:
        temp = Path(temp)
        instance = temp / "instance"
        print(f"Writing {args.posts:,} demo posts into {instance} ...", flush=True)
        run["build_seconds"] = build_blog(instance, args.posts)
        print(f"  done in {run['build_seconds']:.1f} s", flush=True)

        # The database exists now; only then do the servers start. Both stay up for the whole
        # run (an idle sync worker costs nothing), so hello is measured before and after the
        # blog's pages at each connection count and drift on a shared machine shows.
        hello = Server.start("hello:app", dict(os.environ), ROOT / "bench", temp / "hello.log", 2)
        servers.callback(hello.stop)
        env = blog_env(instance, args.cache)
        blog = Server.start("wsgi:app", env, ROOT, temp / "blog.log", args.workers)
        servers.callback(blog.stop)
        paths = blog_paths(blog.base, args.posts, per_page)
        check_pages(blog.base, paths)
        warm_up(hello.base, [("hello", "/", ())])
        warm_up(blog.base, paths)

        # Rounds interleave the pages, so a burst of other work on the machine hits one round
        # of each rather than all rounds of one; each cell reports its median round.
        measured = [("hello", hello.base + "/", ())]
        measured += [(label, blog.base + path, headers) for label, path, headers in paths]
        runs: dict[tuple[str, int], list[Result]] = {}
        for connections in args.connections:
            for number in range(args.rounds):
                print(
                    f"round {number + 1} of {args.rounds}, {connections} connections:", flush=True
                )
                # hello first, then the pages in an order that rotates each round, so no page
                # always runs first after hello (that position measured up to 25% slower).
                shift = number % (len(measured) - 1)
                order = [measured[0], *measured[1 + shift :], *measured[1 : 1 + shift]]
                for label, url, headers in order:
                    result = run_wrk(label, url, connections, args.duration, headers)
                    runs.setdefault((label, connections), []).append(result)
            result = run_wrk("hello", hello.base + "/", connections, args.duration)
            runs[("hello", connections)].append(result)  # hello closes each connection count
        hello_results = [summarise(v) for (label, _), v in runs.items() if label == "hello"]
        results = [summarise(v) for (label, _), v in runs.items() if label != "hello"]
        run["memory"], run["hello_memory"] = blog.measure_memory(), hello.measure_memory()
        blog.stop()
        hello.stop()

        if not args.no_preload_check:
            # The same blog with the app imported once in the master before forking: workers
            # share those pages (PSS drops) though each one's RSS still counts them.
            print("blog under gunicorn --preload (memory only):", flush=True)
            preloaded = Server.start(
                "wsgi:app", env, ROOT, temp / "preload.log", args.workers, True
            )
            servers.callback(preloaded.stop)
            warm_up(preloaded.base, paths, rounds=5)
            for label, path, headers in paths:
                run_wrk(label, preloaded.base + path, args.connections[0], 3, headers)
            run["preload_memory"] = preloaded.measure_memory()
            preloaded.stop()

    run["load_after"] = load_average()
    text = report(args, run, results, hello_results)
    print()
    print(text)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
