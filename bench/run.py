"""`make bench`: the benchmarks against the limits of the stack, results in docs/benchmarks.md.

    make bench TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_h8 \\
        TEST_BROKER_URL=redis://127.0.0.1:6379/8
    .venv/bin/python bench/run.py pages burst      # some of them (DATABASE_URL etc. set)
    .venv/bin/python bench/run.py --repeats 1 --no-docs    # a quick look

Each benchmark runs the real stack on loopback (gunicorn, PostgreSQL, Redis, a Celery worker,
an SMTP sink), measures the project and its reference in the same run, repeats, and reports
medians and ratios. Databases are named after DATABASE_URL's: <name>_bench_template (migrated
and seeded once per run), a copy of it per benchmark (dropped afterwards), and
<name>_bench_reports with a million concerns, kept between runs because it takes minutes to
fill. The Redis database of CELERY_BROKER_URL is the broker and cache; its queue is purged.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report_doc, stack  # noqa: E402

PARTS = ("pages", "burst", "delivery", "reports")
# Not in `make bench` (it would not fit its 15 minutes): `make bench-growth`.
OPTIONAL = ("growth",)
BUDGETS = {"pages": 150, "burst": 180, "delivery": 240, "reports": 110, "growth": 1800}
MODULES = {
    "pages": "pages",
    "burst": "burst",
    "delivery": "delivery",
    "reports": "report_bench",
    "growth": "growth",
}
DOC = ROOT / "docs" / "benchmarks.md"
# Ports of the stack under test, all on 127.0.0.1: web, SMTP sink, second SMTP sink.
DEFAULT_PORT = 8110


@dataclass
class Context:
    database: str
    broker: str
    web_port: int
    smtp_port: int
    smtp_port_2: int
    repeats: int
    seconds: float
    warmup: float
    # Seconds after which no new round starts (the first always runs): `make bench` must stay
    # under 15 minutes even when the machine is busy and every round is slow.
    budget: float = 300.0


def run_part(name: str, ctx: Context, out: Path) -> None:
    """Inside the benchmark's own process: Django on that benchmark's database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = ctx.database
    os.environ.pop("DEBUG", None)
    os.environ.setdefault("ALLOWED_HOSTS", f"{stack.HOST},testserver")
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    if name == "growth":
        # In one process, measured as the web and the worker run: the cache in Redis.
        os.environ["CACHE_URL"] = ctx.broker
    import django

    django.setup()
    import importlib

    module = importlib.import_module(f"bench.{MODULES[name]}")
    result = module.run(ctx)
    out.write_text(json.dumps(result, indent=1, default=str))


def prepare(url: str, *, keep: bool = False) -> None:
    """A migrated database with seed_demo's data. With keep, an existing one is only migrated
    (the reports database, whose million concerns take minutes to write)."""
    started = time.perf_counter()
    created = stack.create_database(url, keep=keep)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "walkandtalk.settings"}
    env.pop("DEBUG", None)
    stack.manage("migrate", "--noinput", "-v0", env=env)
    if created:
        stack.manage("seed_demo", env=env)
    print(f"{stack.db_name(url)} ready in {time.perf_counter() - started:.0f} s", flush=True)


def prepare_template(base: str) -> str:
    """The database each benchmark starts from: copied, so every one starts the same."""
    url = stack.database_url(base, "bench_template")
    prepare(url)
    return url


def purge_broker(broker: str) -> None:
    env = {**os.environ, "CELERY_BROKER_URL": broker, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [str(stack.VENV_BIN / "celery"), "-A", "walkandtalk", "purge", "-f"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def run_subprocess(argv: list[str], timeout: float) -> None:
    """Run a benchmark's process; if this one is stopped, stop it with SIGTERM, so that it
    stops its own gunicorn, worker and sink (a SIGKILL would leave them running)."""
    proc = subprocess.Popen(argv, cwd=ROOT)
    try:
        code = proc.wait(timeout)
    except BaseException:
        proc.terminate()
        proc.wait(60)
        raise
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} exited with {code}")


def stop_on_sigterm() -> None:
    """SIGTERM and SIGHUP end this process through SystemExit, so every `finally` and context
    manager runs and no server is left behind."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", default=list(PARTS), help=" ".join(PARTS + OPTIONAL))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="each load run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", DEFAULT_PORT)))
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--context", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    unknown = set(args.parts) - set(PARTS + OPTIONAL)
    if unknown:
        parser.error(
            f"unknown benchmarks {sorted(unknown)}: choose from {', '.join(PARTS + OPTIONAL)}"
        )
    if args.part:
        ctx = Context(**json.loads(args.context))
        run_part(args.part, ctx, Path(args.out))
        return

    base = os.environ.get("DATABASE_URL")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not base or not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (make bench does).")
    if not broker.startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL to a Redis database (make bench does).")
    stack.VAR.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    info = stack.machine()
    load_before = stack.load_average()
    print(
        f"{info['cores']} cores, {info['memory_gib']} GiB, {info['os']}, Python "
        f"{info['python']}, PostgreSQL {info['postgresql']}, Redis {info['redis']}; "
        f"load average {load_before[0]:.2f}",
        flush=True,
    )
    template = None
    results = {}
    try:
        for name in args.parts:
            if name == "reports":
                database = stack.database_url(base, "bench_reports")
                prepare(database, keep=True)
            else:
                template = template or prepare_template(base)
                database = stack.database_url(base, f"bench_{name}")
                stack.create_database(database, template=template)
            purge_broker(broker)
            ctx = Context(
                database=database,
                broker=broker,
                web_port=args.port,
                smtp_port=args.port + 1,
                smtp_port_2=args.port + 2,
                repeats=args.repeats,
                seconds=args.seconds,
                warmup=args.warmup,
                budget=BUDGETS[name],
            )
            out = stack.VAR / f"{name}.json"
            out.unlink(missing_ok=True)
            print(f"\n== {name}", flush=True)
            started = time.perf_counter()
            load = stack.load_average()[0]
            try:
                run_subprocess(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--part",
                        name,
                        "--context",
                        json.dumps(asdict(ctx)),
                        "--out",
                        str(out),
                    ],
                    timeout=40 * 60 if name == "growth" else 15 * 60,
                )
            finally:
                if name != "reports":  # dropped even when the benchmark failed
                    stack.drop_database(database)
            result = json.loads(out.read_text())
            result["seconds"] = time.perf_counter() - started
            result["load"] = [load, stack.load_average()[0]]
            results[name] = result
    finally:
        if template:
            stack.drop_database(template)
    total = time.perf_counter() - began
    run = {
        "when": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "load": [load_before, stack.load_average()],
        "total_seconds": total,
        "repeats": args.repeats,
        "seconds": args.seconds,
        "results": results,
    }
    (stack.VAR / "last-run.json").write_text(json.dumps(run, indent=1, default=str))
    text = report_doc.render(run)
    print("\n" + text)
    print(f"make bench took {total / 60:.1f} minutes")
    if not args.no_docs and set(args.parts) == set(PARTS):
        report_doc.write(DOC, text)
        print(f"written to {DOC.relative_to(ROOT)}")
    elif not args.no_docs and args.parts == ["growth"]:
        report_doc.write(DOC, text, section=report_doc.GROWTH)
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
