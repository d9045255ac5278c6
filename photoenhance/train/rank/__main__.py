"""``python -m photoenhance.train.rank STEP [options]``: STEP is ``labels`` (make the training
regions and their gains), ``train`` (train the ranker) or ``choose-q`` (pick the quality
measure the labels use)."""

from __future__ import annotations

import sys

COMMANDS = ("labels", "train", "choose-q")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "labels":
        from photoenhance.train.rank import labels

        labels.main(argv[1:])
    elif argv[0] == "choose-q":
        from photoenhance.train.rank import choose_q

        choose_q.main(argv[1:])
    else:
        from photoenhance.train.rank import train

        train.run(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
