"""``photoenhance watch ROOT...``: index and score new photos as they arrive (foreground)."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path
from typing import Any

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import ModelError
from photoenhance.core.library import check_roots
from photoenhance.core.library.alerts import Alert
from photoenhance.core.library.watch_service import Indexed, Scored, WatchEvent, WatchService
from photoenhance.core.settings import load_settings

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "watch", help="watch folders and score new photos as they arrive",
        description="Watch each ROOT. New and changed photos are indexed and scored once "
        "they are completely written; each prints its score. Photos above the threshold are "
        "announced in one line per burst. Stop with Ctrl-C.",
    )
    p.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    p.add_argument("--threshold", type=float, default=None,
                   help="alert above this score (default from settings, 0.4)")
    p.add_argument("--poll", action="store_true",
                   help="poll instead of using file-system events (network drives)")
    p.set_defaults(func=run)


def _loader() -> Any:
    state: dict[str, Any] = {}

    def load() -> Any:
        if "scorer" not in state:
            from photoenhance.core.rank.scorer import Scorer, use_streaming_threads

            use_streaming_threads()  # keeps the latency low when other work fills the CPUs
            try:
                state["scorer"] = Scorer.load()
            except ModelError as exc:
                log.warning("%s; new photos are indexed but not scored.", exc)
                state["scorer"] = None
        return state["scorer"]

    return load


def _print(event: WatchEvent) -> None:
    if isinstance(event, Scored):
        if event.score is None:
            print(f"unreadable  {event.path}: {event.error}", flush=True)
        else:
            print(f"{event.score:10.2f}  {event.path}", flush=True)
    elif isinstance(event, Alert):
        print(f"ALERT: {event.message}", flush=True)
    elif isinstance(event, Indexed):
        c = event.summary.counts()
        if c["moved"] or c["missing"]:
            print(f"indexed: {c['added']} added, {c['moved']} moved, {c['missing']} missing",
                  flush=True)


def run(args: argparse.Namespace) -> int:
    roots = check_roots(args.roots)
    settings = load_settings()
    threshold = settings.threshold if args.threshold is None else args.threshold
    with Catalog.open(args.catalog) as catalog:
        svc = WatchService(catalog, roots, _print, scorer=_loader(), threshold=threshold,
                           poll=True if args.poll else None).start()
        assert svc.watcher is not None
        print(f"Watching {len(roots)} folder(s) with {svc.watcher.backend}. "
              "Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Stopped watching.", flush=True)
        finally:
            svc.stop()
    return 0
