"""A notification receiver on loopback: Alertmanager's webhook and Telegram's Bot API, recorded."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records every POST as ``(monotonic time, path, JSON body)``; answers as Telegram would."""

    def __init__(self) -> None:
        self.posts: list[tuple[float, str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:  # Telegram's client may send a form
                    payload = body.decode()
                owner.posts.append((time.monotonic(), self.path, payload))
                answer = {
                    "ok": True,
                    "result": {"message_id": len(owner.posts), "date": 0, "chat": {"id": 1}},
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hooks(self, receiver: str) -> list[tuple[float, dict]]:
        return [(t, body) for t, path, body in self.posts if path == f"/hook/{receiver}"]

    def telegrams(self, receiver: str) -> list[Any]:
        return [body for _, path, body in self.posts if path.startswith(f"/tg/{receiver}/")]

    def close(self) -> None:
        self.server.shutdown()
