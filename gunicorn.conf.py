"""gunicorn's settings for every way the app is served (the Dockerfile's CMD, docker-compose.yml
and bench/), read by gunicorn from the working directory. Workers and the bind address come
from the command line (WEB_CONCURRENCY sets the worker count).

Sync workers tell the master they are alive only between requests, and the master kills a
worker silent for `timeout` seconds. The commanders' CSV export streams one request for as long
as the rows take: a year of a million concerns took over a minute on a 2-core machine
(docs/benchmarks.md, Reports), and gunicorn's default of 30 s cut the file short. A worker
stuck for five minutes is still replaced.
"""

timeout = 300
