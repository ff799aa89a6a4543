"""A small bounded cache for the simulator's rendered records."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class LRU:
    """A bounded mapping evicting oldest insertions first, by entry count and optionally by bytes.

    Safe to share between the server thread and a warming thread (mutations take a lock; reads are
    single dict lookups)."""

    def __init__(self, cap: int, cap_bytes: int = 0) -> None:
        self.cap = cap
        self.cap_bytes = cap_bytes
        self.bytes = 0
        self.d: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, k: Any) -> Any:
        return self.d.get(k)

    def put(self, k: Any, v: Any, size: int = 0) -> None:
        with self._lock:
            d = self.d
            old = d.pop(k, None)
            if old is not None and self.cap_bytes:
                self.bytes -= old[2] if isinstance(old, tuple) and len(old) > 2 else 0
            d[k] = (v[0], v[1], size) if size and isinstance(v, tuple) else v
            self.bytes += size
            while d and (len(d) > self.cap or (self.cap_bytes and self.bytes > self.cap_bytes)):
                _, ov = d.popitem(last=False)
                if isinstance(ov, tuple) and len(ov) > 2:
                    self.bytes -= ov[2]

    def clear(self) -> None:
        with self._lock:
            self.d.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self.d)
