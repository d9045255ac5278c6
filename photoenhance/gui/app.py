"""Start the desktop app."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from photoenhance import __version__
from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.core.settings import load_settings


def run(roots: Sequence[Path] = (), catalog_path: Path | None = None) -> int:
    """Open the main window (adding and scanning ``roots``) and run the event loop."""
    from PySide6.QtWidgets import QApplication

    from photoenhance.gui.main_window import MainWindow
    from photoenhance.gui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("photoenhance")
    app.setApplicationVersion(__version__)
    apply_dark_theme(app)  # type: ignore[arg-type]
    catalog = Catalog.open(catalog_path)
    window = MainWindow(catalog, load_settings())
    window.show()
    window.check_interrupted()
    if roots:
        window.start_scan(list(roots))
    try:
        return int(app.exec())
    finally:
        window.watcher.stop()
        catalog.close()


def main() -> int:
    """Entry point of the ``photoenhance-gui`` launcher."""
    from photoenhance.core.logs import setup_logging

    setup_logging()
    try:
        return run()
    except PhotoEnhanceError as exc:
        print(f"photoenhance: {exc}", file=sys.stderr)
        return 1
