"""The settings dialog: edits a copy of :class:`Settings`; the caller saves it."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from photoenhance.core import paths
from photoenhance.core.settings import Settings

LOCATIONS = (("mirror", "In an “Enhanced” folder that mirrors the library"),
             ("suffix", "Next to the original, with an “_enhanced” suffix"))
FORMATS = (("keep", "Same format as the original"), ("jpeg", "JPEG"), ("png", "PNG"),
           ("tiff", "TIFF"))
DEVICES = (("auto", "Automatic (GPU when available)"), ("cpu", "CPU"), ("cuda", "GPU (CUDA)"))


def _combo(options: tuple[tuple[str, str], ...], current: str) -> QComboBox:
    box = QComboBox()
    for value, text in options:
        box.addItem(text, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class SettingsDialog(QDialog):
    """Output, quality, ranking, performance and watched folders."""

    def __init__(
        self, settings: Settings, roots: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        s = settings
        self.location = _combo(LOCATIONS, s.output_location)
        self.format = _combo(FORMATS, s.output_format)
        self.jpeg_floor = QSpinBox(minimum=50, maximum=100, value=s.jpeg_min_quality)
        self.jpeg_floor.setToolTip("Copies are never coarser than their source; this is the "
                                   "lowest JPEG quality used.")
        self.threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2,
                                        value=s.threshold)
        self.strength = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2,
                                       value=s.strength)
        self.auto_strength = QCheckBox("Adjust to each photo (leave clean photos alone)")
        self.auto_strength.setChecked(s.auto_strength)
        self.auto_strength.setToolTip("Scale the strength by each photo's measured noise, JPEG "
                                      "compression and softness, and pick the model made for "
                                      "its main fault, before enhancing it.")
        self.device = _combo(DEVICES, s.device)
        self.threads = QSpinBox(minimum=0, maximum=256, value=s.threads)
        self.threads.setSpecialValueText("All cores")
        self.alerts = QCheckBox("Tell me when new photos worth fixing arrive")
        self.alerts.setChecked(s.alerts_enabled)
        self.watched = QListWidget()
        unwatched = set(s.unwatched_roots)
        for root in roots:
            item = QListWidgetItem(root)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if root in unwatched
                               else Qt.CheckState.Checked)
            self.watched.addItem(item)
        self.watched.setMaximumHeight(110)
        self._build()

    def _build(self) -> None:
        out = QFormLayout()
        out.addRow("Save copies", self.location)
        out.addRow("Format", self.format)
        out.addRow("Lowest JPEG quality", self.jpeg_floor)
        rank = QFormLayout()
        rank.addRow("Worth-fixing threshold", self.threshold)
        rank.addRow("Enhancement strength", self.strength)
        rank.addRow("", self.auto_strength)
        perf = QFormLayout()
        perf.addRow("Device", self.device)
        perf.addRow("Threads", self.threads)
        watch = QVBoxLayout()
        watch.addWidget(QLabel("Watch these folders for new photos:"))
        watch.addWidget(self.watched)
        watch.addWidget(self.alerts)
        lay = QVBoxLayout(self)
        for title, inner in (("Output", out), ("Ranking", rank), ("Performance", perf),
                             ("Watch and alerts", watch)):
            box = QGroupBox(title)
            box.setLayout(inner)
            lay.addWidget(box)
        logs = QPushButton("Open log folder")
        logs.clicked.connect(self.open_logs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(logs, QDialogButtonBox.ButtonRole.HelpRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def result_settings(self) -> Settings:
        """The edited settings (a new object; the original is untouched)."""
        unwatched = [self.watched.item(i).text() for i in range(self.watched.count())
                     if self.watched.item(i).checkState() != Qt.CheckState.Checked]
        watched = [self.watched.item(i).text() for i in range(self.watched.count())
                   if self.watched.item(i).checkState() == Qt.CheckState.Checked]
        keep = [r for r in self._original.watched_roots if r not in unwatched]
        return dataclasses.replace(
            self._original, output_location=self.location.currentData(),
            output_format=self.format.currentData(), jpeg_min_quality=self.jpeg_floor.value(),
            threshold=round(self.threshold.value(), 2), strength=round(self.strength.value(), 2),
            auto_strength=self.auto_strength.isChecked(), device=self.device.currentData(),
            threads=self.threads.value(),
            alerts_enabled=self.alerts.isChecked(),
            watched_roots=sorted(set(keep) | set(watched)),
            unwatched_roots=sorted(set(unwatched)))

    @staticmethod
    def open_logs() -> bool:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
