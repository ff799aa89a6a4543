"""`make run`: the console on a fresh clone, against the local simulator of the three systems.

    python -m services.demo run [--port 8501] [--sandbox-port 8787] [--webhook-port 8788] [--orders 1500] [--seed 7]

1. starts the simulator of the three APIs in a thread of this process (`sandbox.server.start_in_thread`);
2. migrates the database, creates one demo user per role, syncs the store, the 3PL and the carrier from it;
3. writes `.streamlit/secrets.toml` (0600) when there is none: random cookie and audit keys, demo mode, the
   source settings and random webhook signing secrets; never a password. The demo users get fresh passwords
   on every run, printed once;
4. starts the webhook receiver on `--webhook-port` (8788) in a thread, and has the simulator send it signed
   webhooks of every change of its world, so the console's data follows the world within a second;
5. runs `streamlit run Home.py` until interrupted, then stops the receiver and the simulator too.

A second run reuses the database and the secrets file (demo users that already exist keep their passwords).
This module never imports streamlit: the console runs in its own process.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SECRETS_PATH = Path(".streamlit/secrets.toml")


# ---------------------------------------------------------------- the simulator


def start_simulator(port: int, orders: int, seed: int) -> Any:
    """The simulator of the three APIs, served from a thread of this (supervisor) process."""
    from sandbox.server import start_in_thread

    try:
        # The demo shop has the Standard plan's limits (REST 40 calls leaking 2/s, GraphQL 100 points/s):
        # holds are asked 100 orders per GraphQL query, so the first sync still takes seconds.
        return start_in_thread(
            port=port,
            orders=orders,
            seed=seed,
            log_level="warning",
        )
    except OSError as exc:
        raise SystemExit(
            f"cannot start the simulator on port {port} ({exc}); is another `make run` running?"
        ) from None


def stop(process: subprocess.Popen[Any] | None, timeout_s: float = 10.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()  # SIGTERM: Streamlit shuts down cleanly on it
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------- secrets


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_secrets(values: Mapping[str, Any]) -> str:
    """TOML for flat keys and one level of tables (all the secrets file needs)."""
    lines = ["# Written by `make run` (services/demo.py) for the local demo. Not for production.", ""]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, Mapping)]
    for name, table in values.items():
        if isinstance(table, Mapping):
            lines += ["", f"[{name}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as a file only its owner can read, created 0600 (no chmod-after-write
    window) and swapped in atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_secrets(path: Path, sources: Mapping[str, str]) -> bool:
    """Create the secrets file when there is none (random cookie and audit keys, demo mode, the sources).

    An existing file keeps its values; it only gains an audit key when it has none and loses the
    plain-text demo passwords older versions wrote there. Passwords are never written. True when written.
    """
    if path.is_file():
        current = tomllib.loads(path.read_text())
        if "demo_users" not in current and "audit_key" in current:
            return False
        current.pop("demo_users", None)
        current.setdefault("audit_key", secrets.token_urlsafe(48))
        write_private(path, render_secrets(current))
        return True
    values: dict[str, Any] = {
        "cookie_key": secrets.token_urlsafe(48),
        "audit_key": secrets.token_urlsafe(48),
        "demo_mode": True,
        "cookie_expiry_days": 0.5,
    }
    values |= {name.lower(): value for name, value in sources.items()}
    write_private(path, render_secrets(values))
    return True


WEBHOOK_SECRET_NAMES = ("SHOPIFY_WEBHOOK_SECRET", "SHIPBOB_WEBHOOK_SECRET", "EASYPOST_WEBHOOK_SECRET")


def webhook_secrets(path: Path) -> dict[str, str]:
    """The demo's webhook signing secrets: those in the secrets file, else new random ones (ShipBob's in its
    `whsec_<base64>` form)."""
    import base64

    current = tomllib.loads(path.read_text()) if path.is_file() else {}
    fresh = {
        "SHOPIFY_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SHIPBOB_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "EASYPOST_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    }
    return {name: str(current.get(name.lower()) or fresh[name]) for name in WEBHOOK_SECRET_NAMES}


def add_missing_secrets(path: Path, values: Mapping[str, str]) -> bool:
    """Add to an existing secrets file the keys it lacks (a file written before webhooks existed)."""
    if not path.is_file():
        return False
    current = tomllib.loads(path.read_text())
    missing = {name.lower(): value for name, value in values.items() if name.lower() not in current}
    if not missing:
        return False
    write_private(path, render_secrets({**current, **missing}))
    return True


def start_receiver(port: int, sources: Mapping[str, str]) -> Any:
    """The webhook receiver on 127.0.0.1:`port`, in a thread of this process."""
    from db.session import make_engine
    from services.settings import Settings
    from services.webhooks.serve import start_receiver as serve

    settings = Settings().model_copy(update={name.lower(): value for name, value in sources.items()})
    try:
        return serve(make_engine(settings.database_url), settings, settings.policy(), port=port)
    except OSError as exc:
        raise SystemExit(
            f"cannot start the webhook receiver on port {port} ({exc}); is another `make run` running?"
        ) from None


# ---------------------------------------------------------------- database


def prepare_database(sources: Mapping[str, str]) -> dict[str, str]:
    """Migrate, give the demo users fresh passwords (creating them where missing), sync every source from
    the simulator. Returns the passwords, to be printed once: only their hashes are stored."""
    from db.migrate import upgrade
    from db.session import make_engine, session_scope
    from services import auth, sync
    from services.policy_change import ensure_policy
    from services.settings import Settings

    settings = Settings().model_copy(
        update={"demo_mode": True, **{name.lower(): value for name, value in sources.items()}}
    )
    policy = settings.policy()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            ensure_policy(conn, policy, now)
        with session_scope(engine) as session:
            created = auth.ensure_demo_users(session, now, demo_mode=True, fresh_passwords=True)
        print("Syncing the demo store from the simulator…", flush=True)
        started = time.monotonic()
        sync.sync_all(engine, settings, policy, now=datetime.now(UTC))
        print(f"  synced in {time.monotonic() - started:.1f} s", flush=True)
        return created
    finally:
        engine.dispose()


# ---------------------------------------------------------------- run


def streamlit_command(port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "Home.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
    ]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # a SIGTERM stops the children too, as Ctrl+C does


def run(args: argparse.Namespace) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (`make run &`)
        signal.signal(signum, _interrupt)
    simulator: Any = None
    receiver: Any = None
    console: subprocess.Popen[bytes] | None = None
    try:
        print(
            f"Starting the simulator on port {args.sandbox_port} ({args.orders} orders, seed {args.seed})…",
            flush=True,
        )
        simulator = start_simulator(args.sandbox_port, args.orders, args.seed)
        sources = {**simulator.settings(), **webhook_secrets(SECRETS_PATH)}
        # First: the file holds the audit key the bootstrap signs with.
        if write_secrets(SECRETS_PATH, sources) | add_missing_secrets(SECRETS_PATH, sources):
            print(f"Wrote {SECRETS_PATH}", flush=True)
        from services.settings import get_settings

        get_settings.cache_clear()
        os.environ["DEMO_MODE"] = "true"
        users = prepare_database(sources)
        receiver = start_receiver(args.webhook_port, sources)
        simulator.start_webhooks(
            f"{receiver.base_url}/webhooks",
            {
                source: sources[f"{source.upper()}_WEBHOOK_SECRET"]
                for source in ("shopify", "shipbob", "easypost")
            },
        )
        print(f"Webhooks: the simulator posts to {receiver.base_url}/webhooks", flush=True)
        env = {**os.environ, **sources, "DEMO_MODE": "true"}
        console = subprocess.Popen(streamlit_command(args.port, args.host), env=env)
        print(f"\norder-recon is at http://{args.host}:{args.port}\n", flush=True)
        print("Demo users (new passwords on every `make run`; shown only here, stored only hashed):")
        for name, password in users.items():
            print(f"  {name:<6} {password}")
        print("\nPress Ctrl+C to stop.", flush=True)
        return console.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(console)
        if simulator is not None:
            simulator.stop()
        if receiver is not None:
            receiver.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="simulator + database + console, until Ctrl+C")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--sandbox-port", type=int, default=8787)
    p.add_argument("--webhook-port", type=int, default=8788)
    p.add_argument("--orders", type=int, default=1500)
    p.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
