"""The settings dialog: edits a copy of :class:`Settings`; the caller saves it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
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
#: Width of every group's label column, and of number fields.
LABEL_WIDTH, NUMBER_WIDTH = 170, 90
DEVICES = (("auto", "Automatic (GPU when available)"), ("cpu", "CPU"), ("cuda", "GPU (CUDA)"))


def _combo(options: tuple[tuple[str, str], ...], current: str) -> QComboBox:
    box = QComboBox()
    for value, text in options:
        box.addItem(text, value)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class SettingsDialog(QDialog):
    """Enhancement (strength, output), ranking, watched folders and performance."""

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
        self.tone = QCheckBox("Correct exposure, contrast and colour (experimental)")
        self.tone.setChecked(s.tone)
        self.tone.setToolTip("After removing noise, JPEG artifacts and blur, brighten dark "
                             "photos, restore flat contrast and neutralise colour casts. Each "
                             "copy records what was done, for example 'exposure +1.2 EV, "
                             "warmer'.")
        self.device = _combo(DEVICES, s.device)
        self.threads = QSpinBox(minimum=0, maximum=256, value=s.threads)
        self.threads.setSpecialValueText("All cores")
        self.alerts = QCheckBox("Tell me when new photos worth fixing arrive")
        self.alerts.setChecked(s.alerts_enabled)
        self.watched = QListWidget()
        self._roots = list(roots)
        unwatched = set(s.unwatched_roots)
        for root in roots:
            self._item(root, root not in unwatched)
        self.watched.setMaximumHeight(110)
        self.watched.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.watched.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(640)
        self.watched.setToolTip("Ticked folders are watched: new photos are added and scored "
                                "as they arrive.")
        self._removed: list[str] = []
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self.add_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Stop watching the selected folder (its photos stay in "
                                      "the library)")
        self.remove_button.clicked.connect(self.remove_selected)
        #: asks for a folder to watch ("" when cancelled); tests replace it
        self.choose_folder: Callable[[], str] = self._ask_folder
        for spin in (self.jpeg_floor, self.threshold, self.strength, self.threads):
            spin.setFixedWidth(NUMBER_WIDTH)  # numbers do not stretch across the dialog
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self._build()

    def _build(self) -> None:
        enhance = self._form((("Strength", self.strength), ("", self.auto_strength),
                              ("", self.tone),
                              ("Save copies", self.location), ("Format", self.format),
                              ("Lowest JPEG quality", self.jpeg_floor)))
        rank = self._form((("Worth-fixing threshold", self.threshold),))
        folders = QVBoxLayout()
        folders.setContentsMargins(0, 0, 0, 0)
        folders.addWidget(self.watched)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        folders.addLayout(row)
        box = QWidget()
        box.setLayout(folders)
        watch = self._form((("Folders", box), ("", self.alerts)))
        perf = self._form((("Device", self.device), ("Threads", self.threads)))
        lay = QVBoxLayout(self)
        for title, inner in (("Enhancement", enhance), ("Ranking", rank), ("Watch", watch),
                             ("Performance", perf)):
            group = QGroupBox(title)
            group.setLayout(inner)
            lay.addWidget(group)
        logs = QPushButton("Open log folder")
        logs.clicked.connect(self.open_logs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(logs, QDialogButtonBox.ButtonRole.HelpRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _form(self, rows: tuple[tuple[str, QWidget], ...]) -> QFormLayout:
        """A form whose label column has the same width in every group, so fields align."""
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, field in rows:
            label = QLabel(text)
            label.setFixedWidth(LABEL_WIDTH)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            form.addRow(label, field)
        return form

    def _item(self, folder: str, checked: bool = True) -> QListWidgetItem:
        item = QListWidgetItem(folder)
        item.setToolTip(folder)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.watched.addItem(item)
        return item

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Watch a folder")

    def folders(self) -> list[str]:
        return [self.watched.item(i).text() for i in range(self.watched.count())]

    def add_folder(self) -> str | None:
        """Ask for a folder and add it, ticked; it is scanned and watched once saved."""
        folder = self.choose_folder()
        if not folder or folder in self.folders():
            return None
        if folder in self._removed:
            self._removed.remove(folder)
        self.watched.setCurrentItem(self._item(folder))
        return folder

    def remove_selected(self) -> str | None:
        row = self.watched.currentRow()
        if row < 0:
            return None
        folder = self.watched.takeItem(row).text()
        self._removed.append(folder)
        return folder

    def added_folders(self) -> list[str]:
        """Folders added here that are not in the library yet (the caller scans them)."""
        return [f for f in self.folders() if f not in self._roots]

    def result_settings(self) -> Settings:
        """The edited settings (a new object; the original is untouched)."""
        unwatched = [self.watched.item(i).text() for i in range(self.watched.count())
                     if self.watched.item(i).checkState() != Qt.CheckState.Checked]
        unwatched += [f for f in self._removed if f in self._roots]
        watched = [self.watched.item(i).text() for i in range(self.watched.count())
                   if self.watched.item(i).checkState() == Qt.CheckState.Checked]
        keep = [r for r in self._original.watched_roots
                if r not in unwatched and r not in self._removed]
        return dataclasses.replace(
            self._original, output_location=self.location.currentData(),
            output_format=self.format.currentData(), jpeg_min_quality=self.jpeg_floor.value(),
            threshold=round(self.threshold.value(), 2), strength=round(self.strength.value(), 2),
            auto_strength=self.auto_strength.isChecked(), tone=self.tone.isChecked(),
            device=self.device.currentData(),
            threads=self.threads.value(),
            alerts_enabled=self.alerts.isChecked(),
            watched_roots=sorted(set(keep) | set(watched)),
            unwatched_roots=sorted(set(unwatched)))

    @staticmethod
    def open_logs() -> bool:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
