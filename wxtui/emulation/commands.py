"""What every emulator command shares: the fault flags, listening, and serving until Ctrl-C.

Each family's own command (`wxtui emulator`, `wxtui tim-emulator`) lives beside its emulator."""

from __future__ import annotations

import argparse
import sys

from wxtui.cli import argtypes

# Latencies, delays and clock speeds beyond this are typing mistakes (a day, in ms or s).
_MAX_AMOUNT = 86_400_000.0


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{argtypes.shown(text)} is not a probability between 0 and 1") from None
    if not 0 <= value <= 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{argtypes.shown(text)} is not a probability between 0 and 1")
    return value


def _non_negative(kind):
    if kind is int:
        return argtypes.int_arg(0, argtypes.MAX_DEMO_FOLLOWERS, "the count")

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{argtypes.shown(text)} is not a number") from None
        if not 0 <= value <= _MAX_AMOUNT:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"{argtypes.shown(text)} must be from 0 to {_MAX_AMOUNT:,.0f}")
        return value

    return parse


def add_fault_arguments(p: argparse.ArgumentParser, *, latency_ms: float, busy: str, minute_flag: str,
                        minute: str, http_5xx: str, clock: str) -> None:
    """The knobs every emulator command has; the answers they stand for differ per API."""
    p.add_argument("--latency-ms", type=_non_negative(float), default=latency_ms,
                   help=f"latency of each API call (default: {latency_ms:g})")
    p.add_argument("--jitter-ms", type=_non_negative(float), default=0.0, help="extra random latency, up to this (default: 0)")
    p.add_argument("--fault-busy", type=_probability, default=0.0, metavar="P", help=f"share of calls answering {busy}")
    p.add_argument(minute_flag, dest="fault_minute", type=_probability, default=0.0, metavar="P",
                   help=f"share of calls answering {minute}")
    p.add_argument("--fault-5xx", type=_probability, default=0.0, metavar="P", help=f"share of calls answering {http_5xx}")
    p.add_argument("--fault-slow", type=_probability, default=0.0, metavar="P",
                   help="share of calls answering only after --slow-s seconds")
    p.add_argument("--slow-s", type=_non_negative(float), default=30.0, help="delay of a slow call (default: 30)")
    p.add_argument("--fault-garbage", type=_probability, default=0.0, metavar="P",
                   help="share of calls answering HTTP 200 with a body that is not JSON")
    p.add_argument("--clock-speed", type=_non_negative(float), default=1.0,
                   help=f"how fast the emulated clock runs ({clock}; default: 1)")


def apply_fault_arguments(emu, args: argparse.Namespace) -> None:
    emu.faults.update(jitter_ms=args.jitter_ms, p_busy=args.fault_busy, p_minute=args.fault_minute,
                      p_5xx=args.fault_5xx, p_slow=args.fault_slow, slow_s=args.slow_s,
                      p_garbage=args.fault_garbage)
    emu.clock.speed = args.clock_speed


def listen_or_report(command: str, host: str, port: int):
    """A bound socket, or None after telling the user why not."""
    from wxtui.emulation.server import bind

    try:
        return bind(host, port)
    except OSError as exc:
        print(f"wxtui {command}: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return None


def serve_until_interrupted(emu, sock) -> int:
    from wxtui.emulation.server import serve

    print("Press Ctrl-C to stop.", flush=True)
    try:
        serve(emu, sock)
    except KeyboardInterrupt:
        pass
    return 0
