"""order-recon's simulator of the three external APIs (Shopify, ShipBob, EasyPost).

See ``sandbox.server`` for the URL layout and ``sandbox.world`` for what the seeded store contains.
"""

from .server import DEMO_TOKENS, RunningSimulator, serve_forever, start_in_thread
from .snapshot import write_snapshot
from .world import World

__all__ = ["DEMO_TOKENS", "RunningSimulator", "World", "serve_forever", "start_in_thread", "write_snapshot"]
