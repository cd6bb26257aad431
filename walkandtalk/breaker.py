"""A Redis that is stuck (accepting connections and never answering) costs each request one
short timeout, not one per use: the rate limiter, the public pages' version and the broker
publish all go to Redis, and a booking would otherwise wait for each in turn.

When a call to a server times out or its connection fails, this process takes the server as
down for COOLDOWN seconds: other calls to it then fail at once, and each caller falls back as
it does when Redis refuses connections (the rate limiter lets the request by, pages are
rendered afresh, the outbox row waits for the sweep). Servers are named by "host:port", so a
cache and a broker on the same Redis share what one of them learnt.

Redis-py has no such guard of its own; the cache's guard is a connection class (redis-py's
`connection_class` option, its way to change how connections behave), the broker's is around
the publish.
"""

import logging
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_down_until: dict[str, float] = {}


class ServerDown(redis.ConnectionError):
    """Raised without trying, while a server is taken as down."""


def is_down(server: str) -> bool:
    return time.monotonic() < _down_until.get(server, 0.0)


def went_down(server: str) -> None:
    with _lock:
        if not is_down(server):
            logger.warning(
                "%s did not answer: taken as down for %s s", server, settings.REDIS_COOLDOWN
            )
        _down_until[server] = time.monotonic() + settings.REDIS_COOLDOWN


def forget() -> None:
    """Take every server as up again (tests start from here)."""
    with _lock:
        _down_until.clear()


def check(server: str) -> None:
    if is_down(server):
        raise ServerDown(f"{server} did not answer a moment ago; not tried again yet")


class GuardedConnection(redis.Connection):
    """A redis-py connection that fails at once while its server is taken as down, and takes
    it as down when connecting, sending or reading times out or fails."""

    def _server(self) -> str:
        return f"{self.host}:{self.port}"

    def _guard(self, call, *args, **kwargs):
        check(self._server())
        try:
            return call(*args, **kwargs)
        except (redis.TimeoutError, redis.ConnectionError):
            went_down(self._server())
            raise

    def connect(self):
        return self._guard(super().connect)

    def send_packed_command(self, command, check_health=True):
        return self._guard(super().send_packed_command, command, check_health)

    def read_response(self, *args, **kwargs):
        return self._guard(super().read_response, *args, **kwargs)
