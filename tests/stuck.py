"""A service that is stuck, not down: it accepts connections and never answers."""

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class StuckListener:
    port: int
    connections: list = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def stuck_listener():
    """A listener on loopback that accepts every connection and then says nothing, as
    PostgreSQL or Redis do when their process is stopped (SIGSTOP) or wedged. Its
    `connections` are those it accepted: how many times a client tried it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.05)
    listener = StuckListener(port=server.getsockname()[1])
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            with contextlib.suppress(OSError):
                listener.connections.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join()
        for conn in listener.connections:
            conn.close()
        server.close()
