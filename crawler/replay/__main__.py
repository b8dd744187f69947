"""`python -m crawler.replay`: serve the replay site on loopback until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from crawler.replay.model import ReplayConfig
from crawler.replay.server import serve
from crawler.replay.site import build_site


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ReplayConfig()
    parser = argparse.ArgumentParser(
        prog="python -m crawler.replay",
        description="Serve the offline replay of a mirrored news site on 127.0.0.1. Prints "
        "the --connect-to arguments that point the presstv profile at it.",
    )
    parser.add_argument("--stories", type=int, default=defaults.stories)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--lag", type=int, default=defaults.lag, help="stories the lagging host lacks"
    )
    parser.add_argument("--edit-every", type=int, default=defaults.edit_every)
    parser.add_argument("--alt-slug-every", type=int, default=defaults.alt_slug_every)
    parser.add_argument("--drift-every", type=int, default=defaults.drift_every)
    parser.add_argument("--undated-every", type=int, default=defaults.undated_every)
    parser.add_argument(
        "--phase", type=int, default=defaults.phase, help="the site's state over time: 1, 2 or 3"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="first of consecutive ports, one per host (default: any free)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = ReplayConfig(
            stories=args.stories,
            seed=args.seed,
            lag=args.lag,
            edit_every=args.edit_every,
            alt_slug_every=args.alt_slug_every,
            drift_every=args.drift_every,
            undated_every=args.undated_every,
            phase=args.phase,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    site = build_site(config)
    hosts = [*site.hosts, *site.candidate_hosts]
    ports = {host: args.port + i for i, host in enumerate(hosts)} if args.port else None
    try:
        server = serve(site, ports)
    except OSError as exc:
        print(f"error: cannot listen: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()
    # Ctrl-C and SIGTERM both just end the wait: a KeyboardInterrupt raised while the
    # addresses are still being printed would end the process with a traceback.
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with server:
        print(" ".join(f"--connect-to {value}" for value in server.connect_to()), flush=True)
        for value in server.connect_to(candidates=True)[len(site.hosts) :]:
            print(f"candidate host outside the profile: {value}", file=sys.stderr, flush=True)
        print(
            f"serving {len(site.stories)} stories (phase {site.phase}) on {len(site.hosts)} "
            "hosts; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
