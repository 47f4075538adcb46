"""A loopback stand-in for GitHub's OAuth and REST endpoints, as allauth's provider uses them.

Serves the token exchange (`POST /login/oauth/access_token`), the profile (`GET /api/v3/user`)
and the email list (`GET /api/v3/user/emails`). Tests choose the profile and emails it returns
and read back what it was asked.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCESS_TOKEN = "gho_fake_token_for_tests"


class FakeGitHub:
    def __init__(self):
        self.profile: dict = {"id": 4242, "login": "octo", "name": "Octo Cat", "email": None}
        self.emails: list[dict] = []
        self.token_requests: list[dict] = []
        self.api_requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, payload) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if self.path.startswith("/login/oauth/access_token"):
                    fake.token_requests.append({k: v[0] for k, v in form.items()})
                    if form.get("code") != ["good-code"]:
                        return self._json(200, {"error": "bad_verification_code"})
                    return self._json(
                        200,
                        {
                            "access_token": ACCESS_TOKEN,
                            "token_type": "bearer",
                            "scope": "user:email",
                        },
                    )
                return self._json(404, {"message": "Not Found"})

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                fake.api_requests.append((self.path, auth))
                if auth != f"token {ACCESS_TOKEN}":
                    return self._json(401, {"message": "Bad credentials"})
                if self.path == "/api/v3/user":
                    return self._json(200, fake.profile)
                if self.path == "/api/v3/user/emails":
                    return self._json(200, fake.emails)
                return self._json(404, {"message": "Not Found"})

        return Handler
