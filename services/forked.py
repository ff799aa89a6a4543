"""A helper process forked to do part of a job on the second core, and what every such helper needs.

Two jobs use one: the snapshot import parses in it, and a sync fetches in it. The helper runs
`work(send)`, where `send(bytes)` hands one message to the parent; the parent reads them in order from
`Helper.receive`. The rules both jobs need:

- The helper ignores Ctrl-C and takes SIGTERM with the default action. The parent owns Ctrl-C and
  stops the helper itself; a handler the parent installed (the demo's, a server's) and fork copied
  must not run in the helper.
- An exception raised by `work` is raised by `receive` at its place in the messages. It travels pickled
  or, when it cannot be unpickled, as a RuntimeError carrying its traceback.
- A helper that dies is an error, not a hang.
- `close` waits for a helper that has finished and terminates one that is still working.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from typing import Any

Send = Callable[[bytes], None]
Work = Callable[[Send], None]

# The first byte of each message says what it is.
_MESSAGE, _END, _ERROR = b"m", b"z", b"e"


def available() -> bool:
    """A second core to run a helper on, and `fork` to start it with."""
    return (os.cpu_count() or 1) >= 2 and "fork" in multiprocessing.get_all_start_methods()


class Helper:
    """The parent's side of a running helper: `receive` its messages, `close` it when done."""

    def __init__(self, work: Work, *, name: str, what: str) -> None:
        """Fork a helper running `work`; `what` names it in errors ("the {what} process stopped")."""
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._what = what
        self._finished = False
        self._process = context.Process(target=_run, args=(work, sender, what), name=name, daemon=True)
        self._process.start()
        sender.close()  # the helper's end: EOF here once the helper is gone

    def receive(self) -> bytes | None:
        """The next message; None once `work` has returned. Raises what `work` raised."""
        try:
            data = bytes(self._receiver.recv_bytes())
        except EOFError:
            self._process.join(5)
            raise RuntimeError(
                f"the {self._what} process stopped (exit code {self._process.exitcode})"
            ) from None
        kind, body = data[:1], data[1:]
        if kind == _MESSAGE:
            return body
        self._finished = True
        if kind == _ERROR:
            raise pickle.loads(body)
        return None

    def close(self) -> None:
        if self._finished:  # it is closing what it opened: let it finish
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()


def _run(work: Work, sender: Any, what: str) -> None:
    """The helper: `work`, then the end or the error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        work(lambda body: sender.send_bytes(_MESSAGE + body))
        sender.send_bytes(_END)
    except Exception as exc:  # every failure is raised again in the parent
        sender.send_bytes(_ERROR + _portable(exc, what))
    finally:
        sender.close()


def _portable(exc: Exception, what: str) -> bytes:
    """The exception pickled, or a RuntimeError with its traceback when it cannot be unpickled."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return pickle.dumps(RuntimeError(f"the {what} process failed:\n{text}"))
