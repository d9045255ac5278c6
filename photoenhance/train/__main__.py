"""``python -m photoenhance.train MODEL [options]``: MODEL is ``enhancer``, ``data``,
``blurcal``, or ``pack`` / ``unpack`` (the patches, for a lent GPU machine)."""

from __future__ import annotations

import sys

COMMANDS = ("enhancer", "data", "blurcal", "pack", "unpack")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "data":
        from photoenhance.train import data

        data.main(argv[1:])
    elif argv[0] == "blurcal":
        from photoenhance.train import blurcal

        blurcal.main(argv[1:])
    elif argv[0] in ("pack", "unpack"):
        from photoenhance.train import pack

        pack.main(argv[1:], argv[0])
    else:
        from photoenhance.train import enhancer

        enhancer.run(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
