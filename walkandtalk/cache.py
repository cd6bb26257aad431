"""Django's Redis cache backend, less a cost on every call."""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    """Django's client wraps its connection pool in a new redis.Redis on every call: about
    0.1 ms of CPU, half of a cache read here (docs/benchmarks.md). A redis.Redis is safe to
    share between threads (each command takes a connection from the pool), so keep one per
    pool."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        if id(pool) not in clients:
            clients[id(pool)] = self._client(connection_pool=pool)
        return clients[id(pool)]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
