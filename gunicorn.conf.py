"""gunicorn's settings for every way the app is served (the Dockerfile's CMD, docker-compose.yml
and bench/), read by gunicorn from the working directory. Workers and the bind address come
from the command line (WEB_CONCURRENCY sets the worker count).

Sync workers tell the master they are alive only between requests, and the master kills a
worker silent for `timeout` seconds. The commanders' CSV export streams one request for as long
as the rows take: a year of a million concerns took over a minute on a 2-core machine
(docs/benchmarks.md, Reports), and gunicorn's default of 30 s cut the file short. A worker
stuck for five minutes is still replaced.

/metrics adds up the request counts of every worker (walkandtalk/metrics.py) with
prometheus-client's multiprocess mode: each worker writes its counts to files in
PROMETHEUS_MULTIPROC_DIR, which must be set before a worker imports prometheus-client, so it is
set here, in the master, which the workers inherit it from. Each master gets a folder of its
own (two servers on one machine must not add up, or wipe, each other's counts) unless one is
given; a given folder is emptied at start, as the library asks. A worker that exits has its
live gauges' files removed; its counts stay, so totals never go down while the master runs.
"""

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess

timeout = 300

# This file is read again on a reload (HUP): the master's environment holds the folder by then.
_MADE_HERE = "WALKANDTALK_METRICS_DIR_MADE"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="walkandtalk-metrics-")
    os.environ[_MADE_HERE] = "1"
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server):
    """Before any worker: start from no counts."""
    if METRICS_DIR.exists():
        for path in METRICS_DIR.glob("*.db"):
            path.unlink()
    METRICS_DIR.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """A folder made here is removed with the master; a given one is left where it was."""
    if os.environ.get(_MADE_HERE) == "1":
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
