"""The dark theme: a Fusion palette plus a small style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from photoenhance.core.paths import resources_dir

ACCENT = "#4f9dff"
WORTH_FIXING = "#ffb347"

_QSS = f"""
QToolTip {{ color: #e8e8e8; background: #2b2b2b; border: 1px solid #555; }}
QProgressBar {{ border: 1px solid #3a3a3a; border-radius: 3px; text-align: center;
               background: #1e1e1e; height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QHeaderView::section {{ background: #262626; color: #bbb; border: 0; padding: 4px; }}
QStatusBar {{ color: #aaa; }}
QPushButton:checked {{ background: #284a73; border: 1px solid {ACCENT}; border-radius: 3px;
                      color: #ffffff; padding: 4px 8px; }}
"""


def app_icon() -> QIcon:
    """The application icon at every shipped size (empty if the icons are missing)."""
    icon = QIcon()
    for png in sorted((resources_dir() / "icons").glob("photoenhance-*.png")):
        icon.addFile(str(png))
    return icon


def apply_dark_theme(app: QApplication) -> None:
    """Dark Fusion palette, style sheet and the window icon."""
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    pal = QPalette()
    base, window, text = QColor("#1b1b1b"), QColor("#232323"), QColor("#e6e6e6")
    for role, color in {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#202020"),
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2d2d2d"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff5c5c"),
        QPalette.ColorRole.Highlight: QColor(ACCENT),
        QPalette.ColorRole.HighlightedText: QColor("#101010"),
        QPalette.ColorRole.Link: QColor(ACCENT),
        QPalette.ColorRole.PlaceholderText: QColor("#808080"),
    }.items():
        pal.setColor(role, color)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6a6a6a"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6a6a6a"))
    app.setPalette(pal)
    app.setStyleSheet(_QSS)
