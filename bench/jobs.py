"""One measured job per process, so peak memory (ru_maxrss) belongs to that job alone."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=["plain", "recon"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("db", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    if args.job == "plain":
        from bench.plain_import import plain_import

        count = plain_import(args.directory, args.db)
    else:
        from db.migrate import upgrade
        from db.session import make_engine
        from services.policy_change import ensure_policy
        from services.settings import Settings
        from services.snapshot import import_snapshot

        engine = make_engine(f"sqlite:///{args.db}")
        upgrade(engine)
        policy = Settings().policy()
        with engine.begin() as conn:  # as `order-recon import` does: the database records its policy
            ensure_policy(conn, policy, datetime.now(UTC))
        start = time.perf_counter()  # the schema is created by the baseline's timing too, but cheaply
        report = import_snapshot(args.directory, engine=engine, policy=policy, now=datetime.now(UTC))
        count = report.counts.get("store", 0)
    json.dump({"seconds": time.perf_counter() - start, "orders": count}, sys.stdout)


if __name__ == "__main__":
    main()
