"""Entry point of the PyInstaller bundle: the ``photoenhance`` command (no command = the app)."""

import sys

from photoenhance.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
