"""A loopback webhook receiver: verifies each POST's `Lumen-Signature` with the endpoint's
secret the way the README tells users to, answers the status codes it is given in turn (then
200), and keeps what it received."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """The README's verification snippet, word for word in spirit: our own code is not used."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookReceiver:
    def __init__(self, *, secret: str = "", answers=()):
        self.secret = secret
        self.answers = list(answers)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                valid = verify(receiver.secret, body, self.headers.get("Lumen-Signature", ""))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if not valid:
                    status = 400
                receiver.received.append(
                    {"path": self.path, "body": body, "valid": valid, "status": status}
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lumen"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
