"""Transport: a pagination link off the configured origin is not followed (the token stays home), and a
source that is not on this machine must be reached over https."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from services.errors import ConfigurationError, SourceProtocolError
from services.settings import Settings
from services.sources.http import Call
from services.sources.shopify.client import ShopifyClient
from tests.services.sources.simulator import Sim

SIM = {"orders": 5}  # the module's simulator (tests/services/conftest.py)

TOKEN = "shpat_secret_token"


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """Another server on loopback: a different origin (its own port) that records what reaches it."""
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_next_page_link_to_another_origin_is_refused_before_sending(sim: Sim, elsewhere: str) -> None:
    with ShopifyClient(sim.settings(shopify_access_token=TOKEN)) as client:
        link = Call(
            "GET orders.json (next page)", f"{elsewhere}/admin/api/orders.json?page_info=x", lambda r: r
        )
        with pytest.raises(SourceProtocolError, match="off the configured origin"):
            client.call(link)
        assert client.stats.retries == 0
    assert _Recorder.seen == []  # nothing, so no token, reached the other origin


def test_a_link_on_the_same_origin_is_followed(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        pages = list(client.order_pages())
    assert sum(len(p.orders) for p in pages) == 5


def test_a_source_elsewhere_must_use_https() -> None:
    settings = Settings(shopify_shop_url="http://shop.example.com", shopify_access_token=TOKEN)
    with ShopifyClient(settings) as client, pytest.raises(ConfigurationError, match="https"):
        list(client.order_pages())
