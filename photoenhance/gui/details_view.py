"""The library's details panel: the selected photo's file facts, EXIF, score and verdict."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QStackedWidget, QWidget

from photoenhance.gui.models import FACTORS, PhotoRow
from photoenhance.gui.verdicts import format_gain, item_gain, item_verdict

RATING_WORDS = {2: "significant gain", 1: "moderate gain", 0: "neutral", -1: "regressed"}


class DetailsPanel(QStackedWidget):
    """The selected photo's file facts, EXIF, score and enhancement; a hint when none is."""

    lens_shown = Signal(str)  # the path whose lens (read on a worker) is now shown

    KEYS = ("Name", "Folder", "Size", "Camera", "Lens", "Captured", "Score", "Predicted gain",
            *FACTORS, "Enhanced", "Verdict", "Rating")

    def __init__(self) -> None:
        super().__init__()
        self.placeholder = QLabel("No photo selected.\n\nClick a photo to see its camera, lens, "
                                  "capture date, score and what enhancing it would gain.\n\n"
                                  "Enter or a double-click opens it in Compare.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #9a9a9a; padding: 16px;")
        page = QWidget()
        self._form = QFormLayout(page)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._labels: dict[str, QLabel] = {}
        for key in self.KEYS:
            label = QLabel("")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._labels[key] = label
            name = QLabel(key.capitalize() if key in FACTORS else key)
            name.setStyleSheet("color: #9a9a9a;")
            self._form.addRow(name, label)
        self.addWidget(self.placeholder)
        self.addWidget(page)
        self.row: PhotoRow | None = None

    def show_row(self, row: PhotoRow | None) -> None:
        self.row = row
        if row is None:
            self.setCurrentWidget(self.placeholder)
            return
        self.setCurrentIndex(1)
        values: dict[str, str] = dict.fromkeys(self._labels, "")
        gain = item_gain(row)
        values.update(
            Name=row.name, Folder=row.folder, Camera=row.camera or "not recorded",
            Lens="…", Captured=row.captured or "not recorded",
            Size=f"{row.width} × {row.height}" if row.width and row.height else "",
            Score="not scored yet" if row.score is None else f"{row.score:.2f}",
        )
        values["Predicted gain"] = "" if gain is None else format_gain(gain)
        for k in FACTORS:
            v = (row.factors or {}).get(k)
            values[k] = "" if v is None else f"{v:.2f}"
        if row.unreadable:
            values.update(Score=f"unreadable: {row.unreadable}", Lens="")
        elif row.tiny:
            values["Score"] += "  (too small to judge)"
        values["Enhanced"] = "yes" if row.enhanced else "not yet"
        if row.enhanced:
            values["Verdict"] = item_verdict(row) or "not verified"
            if row.verified_delta is not None:
                values["Verdict"] += f"  ({row.verified_delta:+.1f} dB measured)"
        values["Rating"] = RATING_WORDS.get(row.rating, "") if row.rating is not None else ""
        for key, text in values.items():
            self._labels[key].setText(text)
            self._form.setRowVisible(self._labels[key], bool(text) or key == "Lens")

    def show_lens(self, path: str, lens: str | None) -> None:
        if self.row is not None and self.row.path == path:
            self._labels["Lens"].setText(lens or "not recorded")
            self.lens_shown.emit(path)
