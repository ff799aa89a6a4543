"""A small OpenID Connect provider on loopback, for company sign-in in a real browser.

It speaks the authorization-code flow as an identity provider does: discovery document, an authorize
endpoint that signs the person in at once as `email` and redirects back with a code, a token endpoint
that trades the code (once) for an RS256 ID token carrying the nonce it was sent, and the signing key
as a JWKS. Streamlit's `st.login()` (Authlib) checks all of it: issuer, audience, signature, nonce.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "order-recon"
CLIENT_SECRET = "a client secret"


@dataclass
class Provider:
    base_url: str
    email: str = "erin@example.com"
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def secrets(self, console_url: str) -> dict[str, Any]:
        """The console's `[auth]` secrets for this provider."""
        return {
            "auth": {
                "redirect_uri": f"{console_url}/oauth2callback",
                "cookie_secret": secrets.token_urlsafe(32),
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "server_metadata_url": f"{self.base_url}/.well-known/openid-configuration",
            }
        }

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> str:
        """Where the browser goes next: back to the console with a one-time code."""
        self.authorize_requests.append(query)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": query.get("nonce", ""), "email": self.email}
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def token(self, form: dict[str, str]) -> dict[str, Any] | None:
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return None
        now = int(time.time())
        claims = {
            "iss": self.base_url,
            "aud": CLIENT_ID,
            "sub": grant["email"],
            "email": grant["email"],
            "email_verified": True,
            "name": "Erin Example",
            "nonce": grant["nonce"],
            "iat": now,
            "exp": now + 600,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }


class _Server(ThreadingHTTPServer):
    provider: Provider


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet: the test's output is the test's
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        provider, url = self.server.provider, urlparse(self.path)
        if url.path == "/.well-known/openid-configuration":
            self._json(200, provider.discovery())
        elif url.path == "/jwks":
            self._json(200, {"keys": [provider.key.as_dict(private=False)]})
        elif url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.send_response(302)
            self.send_header("Location", provider.authorize(query))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        answer = self.server.provider.token(form) if urlparse(self.path).path == "/token" else None
        if answer is None:
            self._json(400, {"error": "invalid_grant"})
        else:
            self._json(200, answer)


@contextmanager
def running_provider() -> Iterator[Provider]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.provider = Provider(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.provider
    finally:
        server.shutdown()
        server.server_close()
