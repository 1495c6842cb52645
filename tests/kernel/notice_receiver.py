"""A real HTTP receiver on 127.0.0.1, in a thread: what a Slack or webhook endpoint would see."""

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every POST; answers what `script` queued for the path, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.next_answer(self.path)
                answer = b"ok" if status < 300 else b"receiver is broken"
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere/")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop's next poll: 0.5 s by default, at every test's teardown.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def script(self, prefix: str, *statuses: int) -> None:
        """The next POSTs to paths starting with `prefix` answer `statuses`, in order."""
        self.answers.setdefault(prefix, []).extend(statuses)

    def next_answer(self, path: str) -> int:
        for prefix, statuses in self.answers.items():
            if path.startswith(prefix) and statuses:
                return statuses.pop(0)
        return 200

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def at(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(prefix)]

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def silent_listener() -> socket.socket:
    """A socket that takes connections (the kernel's backlog) and never answers: a receiver
    that hangs. Close it when done."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    return listener


def closed_port_url(path: str) -> str:
    """An address on 127.0.0.1 where nothing listens (a receiver that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
