"""What bench/run.py is built from: gunicorn servers we start and stop, wrk runs and their
parsed results, memory read from /proc. Talks to 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address these benchmarks ever talk to
# The production worker (../gunicorn.conf.py), for the blog and the hello baseline alike.
WORKER_CLASS = "blog.gunicorn_sync.SyncWorker"


# --- Servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def memory_of(pids: list[int]) -> dict:
    """Sum VmRSS and PSS (which splits shared pages fairly) over pids, in MB."""
    rss = pss = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        rss += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            pss += int(re.search(r"Pss:\s+(\d+) kB", rollup).group(1))
        except (OSError, AttributeError):
            pass
    return {"processes": len(pids), "rss_mb": rss / 1024, "pss_mb": pss / 1024}


def children(parent: int) -> list[int]:
    """The processes whose parent is parent (found through /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (after the parenthesised command name) is the parent's pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


@dataclass
class Server:
    """A gunicorn master we started, its log, its address, and how long it took to serve."""

    process: subprocess.Popen
    log: Path
    base: str = ""
    cold_start: float = 0.0  # seconds from launching gunicorn to the first 200 on "/"
    memory: dict = field(default_factory=dict)

    @classmethod
    def start(
        cls, app: str, env: dict, workdir: Path, log: Path, workers: int, preload: bool = False
    ) -> Server:
        """Start gunicorn on a free port and wait (bounded) for every worker and a 200 on "/"."""
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "bench" / "gunicorn.conf.py")]
        command += ["-w", str(workers), "-k", WORKER_CLASS]
        command += ["-b", f"{HOST}:{port}", "--chdir", str(workdir)]
        command += ["--preload"] if preload else []
        command += [app]
        with log.open("wb") as out:
            launched = time.monotonic()
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: stopping it stops its workers
            )
        server = cls(process, log, base=f"http://{HOST}:{port}")
        try:
            server.cold_start = server._first_200(launched) - launched
            server._wait_for_workers(workers)
        except BaseException:
            server.stop()
            raise
        return server

    def _first_200(self, launched: float, timeout: float = 30.0) -> float:
        """Poll "/" every 5 ms until it answers 200; return that moment (time.monotonic)."""
        while time.monotonic() - launched < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic()
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(
            f"gunicorn did not answer within {timeout:.0f} s:\n{self.log.read_text()}"
        )

    def _wait_for_workers(self, workers: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(children(self.process.pid)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn started no {workers} workers:\n{self.log.read_text()}"
                )
            time.sleep(0.05)

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *children(self.process.pid)]

    def measure_memory(self) -> dict:
        """Sum VmRSS and PSS over master and workers, MB."""
        self.memory = memory_of(self.pids())
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
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
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


def run_wrk(label: str, url: str, connections: int, seconds: int, headers=()) -> Result:
    """wrk once, with a line of progress."""
    result = wrk(label, url, connections, seconds, headers)
    print(
        f"  {label:<40} c={connections:<3} {result.rps:8.0f} req/s  "
        f"p50 {fmt_ms(result.p50):>9}  p99 {fmt_ms(result.p99):>9}  errors {result.errors}",
        flush=True,
    )
    return result


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET url (bounded); return (status, headers, body); 3xx and 4xx are answers, not errors."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as answer:
        return answer.code, dict(answer.headers), answer.read()


# --- The machine -----------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 1 else f"{value * 1000:.0f} µs"


def load_average() -> float:
    """The one-minute load average (other work on the machine skews every figure)."""
    return os.getloadavg()[0]


def nproc() -> str:
    return subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else "unknown CPU"


def version(package: str) -> str:
    return metadata.version(package)


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
    found = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return f"wrk {found.group(1)}" if found else "wrk"


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
