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

A pipe holds only 64 KiB, so a helper can get at most that far ahead of a parent that is busy with
something else. With `read_ahead_bytes`, a thread of the parent takes the messages off the pipe as they
come, up to that many bytes not yet received (reading releases the interpreter lock, so the thread costs
the parent little).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections import deque
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

    def __init__(self, work: Work, *, name: str, what: str, read_ahead_bytes: int = 0) -> None:
        """Fork a helper running `work`; `what` names it in errors ("the {what} process stopped")."""
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._what = what
        self._finished = False
        self._closed = False
        self._process = context.Process(target=_run, args=(work, sender, what), name=name, daemon=True)
        self._process.start()
        sender.close()  # the helper's end: EOF here once the helper is gone
        self._ahead = _ReadAhead(self._receiver, read_ahead_bytes) if read_ahead_bytes > 0 else None

    def receive(self) -> bytes | None:
        """The next message; None once `work` has returned. Raises what `work` raised."""
        try:
            data = self._ahead.take() if self._ahead else bytes(self._receiver.recv_bytes())
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
        """Stop the helper (once; closing again does nothing)."""
        if self._closed:
            return
        self._closed = True
        if self._finished:  # it is closing what it opened: let it finish
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        if self._ahead is not None:
            self._ahead.stop()  # the pipe is at its end now that the helper is gone
        self._receiver.close()


class _ReadAhead:
    """A thread that takes a helper's messages off the pipe as they come, up to `limit` bytes ahead."""

    def __init__(self, receiver: Any, limit: int) -> None:
        self._receiver, self._limit = receiver, limit
        self._messages: deque[bytes | BaseException] = deque()
        self._held = 0  # bytes read and not yet taken
        self._stopped = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="helper-read-ahead", daemon=True)
        self._thread.start()

    def take(self) -> bytes:
        """The next message, as `recv_bytes` gives it (EOFError at the pipe's end)."""
        with self._ready:
            while not self._messages:
                self._ready.wait()
            message = self._messages.popleft()
            if isinstance(message, BaseException):
                self._messages.appendleft(message)  # the end stays the end
                raise message
            self._held -= len(message)
            self._ready.notify_all()
            return message

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify_all()
        self._thread.join()

    def _read(self) -> None:
        while True:
            try:
                message: bytes | BaseException = bytes(self._receiver.recv_bytes())
            except (EOFError, OSError) as exc:
                message = exc if isinstance(exc, EOFError) else EOFError(str(exc))
            with self._ready:
                while self._held >= self._limit and not self._stopped:
                    self._ready.wait()
                if self._stopped:
                    return
                self._messages.append(message)
                if isinstance(message, BaseException):
                    self._ready.notify_all()
                    return
                self._held += len(message)
                self._ready.notify_all()
                if message[:1] != _MESSAGE:  # the helper's last word
                    return


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
