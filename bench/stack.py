"""The real stack on loopback for the benchmarks: databases, gunicorn, a Celery worker, the SMTP
sink, and a small HTTP load generator.

Every process is started in its own session and always stopped (SIGTERM to its group, then
SIGKILL) by the context manager that started it. Traffic goes to 127.0.0.1 only. Every loop is
bounded in time and in count.
"""

import contextlib
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "bench"
HOST = "127.0.0.1"

# One fixed gunicorn configuration for the project's pages and the bare view alike: the
# image's server (sync workers, as in the Dockerfile), with a fixed worker count: two per core.
GUNICORN_WORKERS = 4


# --- configuration ----------------------------------------------------------------------------


def database_url(base_url: str, suffix: str) -> str:
    """The URL of a benchmark database named after the one given: wt_h8 -> wt_h8_bench_pages."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "walkandtalk"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_conninfo(url: str) -> str:
    """The same server, the maintenance database: to create and drop the others."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def bench_env(*, database: str, broker: str, port: int, smtp_port: int | None = None) -> dict:
    """The environment of every process of the stack under test: production settings (DEBUG
    off) plus the bench URLconf, which adds the bare reference view and nothing else."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database,
        CELERY_BROKER_URL=broker,
        # As in docker-compose.yml: the rate-limit counters in Redis, shared by the workers.
        CACHE_URL=broker,
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"http://{HOST}:{port}",
        SECURE_SSL_REDIRECT="0",
        VAR_DIR=str(VAR / "var"),
        LOG_LEVEL="WARNING",
    )
    if smtp_port is not None:
        env.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=HOST,
            EMAIL_PORT=str(smtp_port),
            EMAIL_USE_TLS="0",
        )
    return env


# --- databases --------------------------------------------------------------------------------


def create_database(url: str, *, template: str | None = None, keep: bool = False) -> bool:
    """Create the database (a copy of `template` if given). With keep, an existing one is left
    as it is. Returns whether it was created."""
    name = db_name(url)
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return False
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{db_name(template)}"'
        conn.execute(sql)
    return True


def drop_database(url: str) -> None:
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name(url)}" WITH (FORCE)')


def manage(*args: str, env: dict, timeout: float = 600) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# --- processes --------------------------------------------------------------------------------


class Service:
    """A process of the stack, in its own process group, stopped on exit whatever happens."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc):
        self.stop()
        self.log.close()

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited: see {self.log_path}")

    def wait_for_log(self, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if re.search(pattern, self.log_path.read_text(errors="replace")):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s: see {self.log_path}")

    def children(self) -> list[int]:
        """Pids of the direct children (gunicorn's workers)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def gunicorn(env: dict, port: int, *, workers: int = GUNICORN_WORKERS, name="gunicorn"):
    """The image's command (walkandtalk.wsgi, sync workers, no access log) with a fixed worker
    count, on loopback."""
    argv = [
        str(VENV_BIN / "gunicorn"),
        "walkandtalk.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--backlog",
        "2048",
        # gunicorn 27's control socket, which defaults to one path in the home directory.
        "--control-socket",
        str(VAR / f"{name}-{port}.ctl"),
    ]
    return Service(name, argv, env, VAR / f"{name}-{port}.log")


def wait_for_http(port: int, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            status, _, _ = fetch(port, request(path), timeout=5)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers 200 on {HOST}:{port}{path}")


def worker(env: dict, *, concurrency: int = 1, name: str = "worker"):
    """One Celery worker process, as in docker-compose.yml, with a fixed concurrency."""
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "walkandtalk",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"bench-{name}@%h",
    ]
    return Service(name, argv, env, VAR / f"{name}.log")


class Sink(Service):
    """bench/sink.py in its own process: counts what arrives, one log line per message."""

    def __init__(self, port: int, name: str = "sink", keep: bool = False):
        self.port = port
        self.lines_path = VAR / f"{name}-messages.tsv"
        self.keep_path = VAR / f"{name}-messages.bin" if keep else None
        argv = [sys.executable, str(ROOT / "bench" / "sink.py"), "--port", str(port)]
        argv += ["--log", str(self.lines_path)]
        if keep:
            argv += ["--keep", str(self.keep_path)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        super().__init__(name, argv, env, VAR / f"{name}.log")

    def __enter__(self):
        super().__enter__()
        self.wait_for_log("^ready", timeout=30)
        return self

    def lines(self) -> list[list[str]]:
        if not self.lines_path.exists():
            return []
        text = self.lines_path.read_text(errors="replace")
        return [line.split("\t") for line in text.splitlines() if line.count("\t") == 3]

    def count(self) -> int:
        """Messages received so far. Reads only what was added since the last call: polled
        every 20 ms, re-reading 10,000 lines each time would take CPU from what is measured."""
        if not self.lines_path.exists():
            return 0
        if getattr(self, "_counted_path", None) != self.lines_path:
            self._counted_path, self._offset, self._count = self.lines_path, 0, 0
        with open(self.lines_path, "rb") as lines:
            lines.seek(self._offset)
            added = lines.read()
        self._offset += len(added)
        self._count += added.count(b"\n")
        return self._count

    def wait_for(self, count: int, timeout: float) -> float:
        """Wait until `count` messages have arrived (or the time is up); returns the time."""
        started = time.perf_counter()
        deadline = started + timeout
        while time.perf_counter() < deadline and self.count() < count:
            self.check_alive()
            time.sleep(0.05)
        return time.perf_counter() - started


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS), in KiB, of a process."""
    values = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
    return pids


def cpu_seconds(pids) -> float:
    """User and system CPU time used so far by these processes (those that still run)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class CPUMeter:
    """The CPU time each part of the stack uses during a stretch of load, by /proc: named
    process trees, and the PostgreSQL backends serving the benchmark's database (each
    gunicorn worker and the Celery worker keeps its connection open between requests)."""

    def __init__(self, services: dict[str, "Service"], database: str):
        self.services, self.database = services, database

    def pids(self) -> dict[str, list[int]]:
        groups = {name: tree(service.proc.pid) for name, service in self.services.items()}
        with psycopg.connect(self.database, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        groups["database"] = [pid for (pid,) in rows]
        return groups

    def start(self) -> None:
        self._pids = self.pids()
        self._before = {name: cpu_seconds(pids) for name, pids in self._pids.items()}

    def stop(self) -> dict[str, float]:
        """CPU seconds used by each part since start (backends that appeared since included)."""
        now = self.pids()
        used = {}
        for name, before in self._before.items():
            new = [pid for pid in now[name] if pid not in self._pids[name]]
            used[name] = cpu_seconds(self._pids[name]) - before + cpu_seconds(new)
        return used


def machine() -> dict:
    """What this machine is, read from the machine."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    os_name = "Linux"
    with contextlib.suppress(FileNotFoundError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')

    def version(*argv) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "unknown"

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024),
        "os": os_name,
        "python": sys.version.split()[0],
        "postgresql": version("psql", "--version").replace("psql (PostgreSQL) ", ""),
        "redis": version("redis-server", "--version").split(" v=")[-1].split()[0],
    }


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


# --- the HTTP load generator ------------------------------------------------------------------
#
# Threads and blocking sockets: gunicorn's sync workers close the connection after every
# response, so each request is connect, send, read to EOF, close. A thread spends nearly all of
# that in system calls with the GIL released; the client's own CPU time per request is measured
# and reported beside the figures, because it shares the two cores with the server.


def request(
    path: str,
    *,
    method: str = "GET",
    port: int = 0,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}" if port else f"Host: {HOST}"]
    lines += ["Connection: close", "User-Agent: walkandtalk-bench"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def fetch(port: int, raw: bytes, timeout: float = 10.0) -> tuple[int, bytes, bytes]:
    """Send one request, read the whole response, close. (status, head, body).

    The socket is closed as soon as Content-Length bytes have arrived, as a browser would, not
    after waiting for the server's FIN: gunicorn (27) lingers after each response until the
    client has closed, so a client slow to close would hold a sync worker idle."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        expected = None
        while expected is None or len(data) < expected:
            chunk = sock.recv(262144)
            if not chunk:
                break
            data += chunk
            if expected is None and b"\r\n\r\n" in data:
                head_end = data.index(b"\r\n\r\n") + 4
                length = CONTENT_LENGTH.search(data, 0, head_end)
                if length:
                    expected = head_end + int(length.group(1))
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head[9:12])
    except ValueError:
        status = 0
    return status, head, body


def set_cookies(head: bytes) -> dict[str, str]:
    cookies = {}
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"set-cookie:"):
            pair = line.split(b":", 1)[1].split(b";", 1)[0].strip().decode()
            name, _, value = pair.partition("=")
            cookies[name] = value
    return cookies


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


@dataclass
class LoadResult:
    requests: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    client_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def client_cpu_ms_per_request(self) -> float:
        return self.client_cpu / self.requests * 1000 if self.requests else 0.0

    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) + self.errors


def hammer(
    port: int,
    raw: bytes,
    *,
    concurrency: int,
    seconds: float,
    max_requests: int = 200_000,
    expect: int = 200,
) -> LoadResult:
    """`concurrency` clients each sending the same request back to back for `seconds` (and at
    most `max_requests` in all). Latency is from connect to the last byte."""
    per_thread = max_requests // concurrency
    results = [LoadResult() for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    ends = [0.0] * concurrency

    def client(n: int) -> None:
        mine = results[n]
        start.wait()
        deadline = begun + seconds
        for _ in range(per_thread):
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            try:
                status, _, _ = fetch(port, raw)
            except OSError:
                mine.errors += 1
                continue
            mine.latencies.append(time.perf_counter() - t0)
            mine.statuses[status] += 1
        ends[n] = time.perf_counter()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu0 = time.process_time()
    begun = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join(seconds + 60)
    total = LoadResult(elapsed=max(ends) - begun, client_cpu=time.process_time() - cpu0)
    for mine in results:
        total.latencies += mine.latencies
        total.statuses += mine.statuses
        total.errors += mine.errors
    total.requests = len(total.latencies)
    unexpected = {s: n for s, n in total.statuses.items() if s != expect}
    if unexpected:
        print(f"    unexpected statuses: {unexpected}", flush=True)
    return total


def stream_get(port: int, path: str, headers: dict, on_chunk, timeout: float = 600) -> tuple:
    """GET a (big, streamed) response, handing each piece to on_chunk. (status, bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        size = 0
        while True:
            piece = response.read(65536)
            if not piece:
                break
            size += len(piece)
            on_chunk(piece)
        return response.status, size
    finally:
        conn.close()


class Rounds:
    """Round numbers 0, 1, ... up to `repeats`; a new round starts only if it should end within
    `budget` seconds of the first's start, judging by the longest round so far (the first
    always runs). `done` says how many ran."""

    def __init__(self, repeats: int, budget: float):
        self.repeats, self.budget, self.done = repeats, budget, 0

    def __iter__(self):
        started = time.perf_counter()
        longest = 0.0
        for n in range(self.repeats):
            now = time.perf_counter()
            if n and now - started + longest > self.budget:
                print(f"  time budget of {self.budget:.0f} s: {n} rounds", flush=True)
                return
            self.done = n + 1
            yield n
            longest = max(longest, time.perf_counter() - now)


def median(values):
    return statistics.median(values) if values else float("nan")
