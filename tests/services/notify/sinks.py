"""Real servers on loopback that receive what the alerts send: a Slack webhook and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlackSink:
    """An incoming-webhook endpoint: records each JSON post; answers `status` (200 "ok" by default)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if sink.status == 200:
                    sink.posts.append(json.loads(body))
                self.send_response(sink.status)
                self.end_headers()
                self.wfile.write(b"ok" if sink.status == 200 else b"invalid_token")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An aiosmtpd server on loopback; with `credentials` it requires AUTH (plain text allowed: no TLS here)."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port = free_port()
        options: dict[str, Any] = {}
        if credentials is not None:

            def authenticate(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                ok = (
                    isinstance(data, LoginPassword)
                    and (data.login.decode(), data.password.decode()) == credentials
                )
                return AuthResult(success=ok)

            options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user else ""
        return f"smtp://{auth}127.0.0.1:{self.port}"

    def close(self) -> None:
        self.controller.stop()
