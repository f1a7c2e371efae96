"""Command line: ``seqattn`` / ``python -m sklearn_seqattn``."""

from __future__ import annotations

import argparse
import sys


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqattn", description="Attention-LSTM sequence classification."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train and evaluate on generated data")
    demo.add_argument("--n-samples", type=int, default=2000)
    demo.add_argument("--max-epochs", type=int, default=30)
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="hide the epoch table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(
            args.n_samples,
            max_epochs=args.max_epochs,
            random_state=args.random_state,
            verbose=0 if args.quiet else 1,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
