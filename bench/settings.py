"""The project's own settings, with one addition for the benchmarks: the bare reference view
(bench/urls.py). Everything else (middleware, database, cache, Celery, security) is the
project's, read from the same environment variables."""

from walkandtalk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
