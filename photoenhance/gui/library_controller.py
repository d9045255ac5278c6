"""Behaviour of the library tab: rows, roots, filters, scans, the details panel, watching.

:class:`MainWindow` lays the widgets out; this controller fills and drives them, as
TagStudio splits views (layout) from controllers (behaviour). Catalog reads and scans run on
the I/O pool; a scan's scoring step runs on the inference lane (through ``lane.remote``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QModelIndex, QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QListWidgetItem

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.library.scan import ScanSummary
from photoenhance.core.progress import Progress
from photoenhance.core.settings import Settings
from photoenhance.gui import bridge, gcpolicy, tasks
from photoenhance.gui.eta import format_eta
from photoenhance.gui.inference import SCORER
from photoenhance.gui.models import PhotoRow, PhotoTableModel
from photoenhance.gui.watching import Tray, WatchController, watched_roots

if TYPE_CHECKING:
    from photoenhance.gui.main_window import MainWindow


class LibraryController(QObject):
    """Loads the library into the window's models and runs its scans, filters and alerts."""

    rows_loaded = Signal(int)  # number of rows, once they are shown
    changed_settings = Signal()  # roots were added to the settings: save them

    def __init__(self, window: MainWindow, catalog: Catalog, settings: Callable[[], Settings],
                 lane: InferenceLane, pool: QThreadPool, watch: bool = True,
                 watch_options: dict[str, Any] | None = None) -> None:
        super().__init__(window)
        self.w, self.catalog, self.settings = window, catalog, settings
        self.lane, self.pool = lane, pool
        self.scan_task: bridge.Task | None = None
        self._unscorable: dict[int, str] = {}  # photo id -> why scoring could not read it
        self._watch_enabled = watch
        self.watcher = WatchController(catalog, lane.remote(SCORER), self, **(watch_options or {}))
        self.tray = Tray(window.windowIcon(), self.watcher, self)
        self.watcher.alerted.connect(self.alert)
        self._lens_soon = self._timer(120, self._read_lens)
        self.reload_soon = self._timer(300, self.reload)
        self._reload_scored = self._timer(1500, self.reload)
        self.watcher.changed.connect(self.reload_soon.start)
        window.table.selectionModel().currentRowChanged.connect(self._current_changed)
        window.search.textChanged.connect(window.proxy.set_text)
        window.show_kind.currentIndexChanged.connect(
            lambda _i: window.proxy.set_kind(window.show_kind.currentData()))
        window.sort.currentIndexChanged.connect(window.library_view.sort_by)
        window.worth_fixing.toggled.connect(self.apply_filter)
        window.threshold.valueChanged.connect(self._threshold_changed)
        window.cancel_button.clicked.connect(self.cancel_scan)
        window.snooze_button.clicked.connect(self.snooze_alerts)
        window.demo_button.clicked.connect(self.start_demo)

    def _timer(self, ms: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self, singleShot=True, interval=ms)
        timer.timeout.connect(slot)
        return timer

    # --- rows -----------------------------------------------------------------------------
    def reload(self) -> None:
        task = bridge.Task(gcpolicy.bulk_load(tasks.load_rows(self.catalog)), self)
        task.finished.connect(self._rows_arrived)
        task.failed.connect(self.w.show_error)
        bridge.start(task, self.pool)

    def _rows_arrived(self, result: object) -> None:
        roots, loaded = cast(tuple[list[str], list[PhotoRow]], result)
        rows = loaded
        if self._unscorable:
            rows = [replace(r, unreadable=self._unscorable[r.id])
                    if r.id in self._unscorable and r.score is None else r for r in rows]
        self._show_roots(roots)
        w = self.w
        keep = w.details.row.id if w.details.row is not None else None
        w.model.set_rows(rows)
        if keep is not None and (at := w.model.row_of(keep)) >= 0:  # the same photo, fresh
            w.table.setCurrentIndex(w.proxy.index(at, 0))
        else:
            w.details.show_row(None)
        self._show_totals(rows)
        w.empty_hint.setVisible(not rows)
        w.views.setVisible(bool(rows))
        self.update_count()
        self.update_watch()
        self.rows_loaded.emit(len(rows))

    def _show_roots(self, roots: list[str]) -> None:
        self.w.roots.clear()
        for root in roots:
            item = QListWidgetItem(Path(root).name or root)
            item.setData(Qt.ItemDataRole.UserRole, root)
            item.setToolTip(root)
            self.w.roots.addItem(item)

    def _show_totals(self, rows: list[PhotoRow]) -> None:
        """The unreadable count in the Show menu; the Review button, with its enhanced count."""
        unreadable = enhanced = 0
        for r in rows:
            unreadable += r.unreadable is not None
            enhanced += r.enhanced
        w = self.w
        w.show_kind.setItemText(w.show_kind.findData("unreadable"), f"Unreadable ({unreadable})")
        w.review_button.setEnabled(enhanced > 0)
        w.review_button.setToolTip(
            f"Step through the {enhanced} enhanced photo{'s' if enhanced != 1 else ''}: keep "
            "or reject each copy, rate the gain (Ctrl+R)" if enhanced else
            "Nothing to review yet: enhanced photos appear here after a batch")

    def root_paths(self) -> list[Path]:
        return [Path(r) for r in self.root_strings()]

    def root_strings(self) -> list[str]:
        roots = self.w.roots
        return [roots.item(i).data(Qt.ItemDataRole.UserRole) for i in range(roots.count())]

    def selected_rows(self) -> list[PhotoRow]:
        rows = self.w.table.selectionModel().selectedRows()
        return [i.data(PhotoTableModel.ROW_ROLE) for i in rows]

    # --- scans ----------------------------------------------------------------------------
    def start_demo(self) -> bridge.Task | None:
        """Write the demo library (degraded variants of the shipped photos), then scan it."""
        from photoenhance.core.paths import data_dir
        from photoenhance.gui.demo import make_demo_library

        folder = data_dir() / "demo-library"
        task = bridge.Task(lambda _p, _c: make_demo_library(folder), self)
        task.finished.connect(lambda root: self.start_scan([root]))
        task.failed.connect(self.w.show_error)
        self.w.statusBar().showMessage("Preparing the demo library…")
        return bridge.start(task, self.pool)

    def start_scan(self, roots: list[Path]) -> bridge.Task | None:
        """Scan ``roots`` (added to the watched roots) on the I/O pool, then score what is new
        on the inference lane."""
        if not roots or self.scan_task is not None:
            return None
        watched = self.settings().watched_roots
        for r in roots:
            if str(r) not in watched:
                watched.append(str(r))
        self.changed_settings.emit()
        task = bridge.Task(tasks.scan_roots(self.catalog, roots, self.lane.remote(SCORER)),
                           self)
        task.progressed.connect(self.show_progress)
        task.finished.connect(self._scan_finished)
        task.failed.connect(self._scan_failed)
        task.cancelled.connect(lambda: self._scan_done("Scan cancelled."))
        self.scan_task = task
        self.set_busy(True, "Scanning…")
        return bridge.start(task, self.pool)

    def cancel_scan(self) -> None:
        if self.scan_task is not None:
            self.scan_task.cancel()
            self.w.statusBar().showMessage("Cancelling…")

    def show_progress(self, p: Progress) -> None:
        """Show a long task's progress (a scan, learning from ratings) in the status bar."""
        if p.message == "scored" and not self._reload_scored.isActive():
            self._reload_scored.start()  # the grid fills in as scores arrive
        w = self.w
        w.progress.setRange(0, p.total or 0)
        w.progress.setValue(p.done)
        w.progress.setFormat(f"%v / %m {p.message or 'files'}")
        w.eta_label.setText(format_eta(p.eta_s))

    def _scan_finished(self, outcome: object) -> None:
        summary = getattr(outcome, "summary", outcome)
        if isinstance(summary, ScanSummary):
            c = summary.counts()
            text = (f"Scan finished: {c['added']} added, {c['updated']} updated, "
                    f"{c['moved']} moved, {c['missing']} missing, {c['unreadable']} unreadable.")
        else:
            text = "Scan finished."
        note = getattr(outcome, "scoring_note", None)
        if note:
            text += f" {note}"
        self._unscorable = dict(getattr(outcome, "failed", []) or [])
        if self._unscorable:
            n = len(self._unscorable)
            text += f" {n} photo{'s' if n != 1 else ''} could not be decoded for scoring."
        self._scan_done(text)

    def _scan_failed(self, message: str) -> None:
        self._scan_done("Scan stopped.")
        self.w.show_error(message)

    def _scan_done(self, text: str) -> None:
        self.scan_task = None
        self.finish_task(text)

    def finish_task(self, text: str) -> None:
        """A long task ended: hide its progress, say ``text``, reload the library."""
        self.set_busy(False)
        self.w.statusBar().showMessage(text)
        self.reload()

    def set_busy(self, busy: bool, text: str = "") -> None:
        w = self.w
        for widget in (w.progress, w.eta_label, w.cancel_button):
            widget.setVisible(busy)
        if busy:
            w.progress.setRange(0, 0)
            w.statusBar().showMessage(text)

    # --- filters and the count of photos worth fixing ---------------------------------------
    def _threshold_changed(self, value: int) -> None:
        settings = self.settings()
        settings.threshold = value / 100
        self.w.grid.delegate.threshold = settings.threshold
        self.w.grid.viewport().update()
        self.apply_filter()

    def apply_filter(self) -> None:
        on = self.w.worth_fixing.isChecked()
        self.w.proxy.set_min_score(self.settings().threshold if on else None)
        self.update_count()

    def update_count(self) -> None:
        w, t = self.w, self.settings().threshold
        rows = w.model.all_rows()
        n = sum(1 for r in rows if r.score is not None and r.score >= t)
        if rows and all(r.score is None for r in rows):
            error = self.lane.models[SCORER].error
            w.count_label.setText("  not scored: the scoring model is not available"
                                  if error is not None else "  not scored yet")
            w.count_label.setToolTip(error or "")
        else:
            w.count_label.setText(f"  {n} photo{'s' if n != 1 else ''} above {t:.2f}")
        w.enhance_button.setText(f"Enhance {n} worth-fixing")
        w.enhance_button.setEnabled(n > 0)
        w.batch.set_worth_count(n, t)

    # --- selection -> details -------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(PhotoTableModel.ROW_ROLE) if current.isValid() else None
        self.w.details.show_row(row)
        if row is not None and not row.unreadable:
            self._lens_soon.start()  # once the selection settles (keys held down)

    def _read_lens(self) -> None:
        row = self.w.details.row
        if row is None:
            return
        task = bridge.Task(tasks.lens_of(row.path), self)
        task.finished.connect(lambda result: self.w.details.show_lens(*result))
        bridge.start(task, self.pool)

    # --- watching and alerts --------------------------------------------------------------
    def update_watch(self, restart: bool = False) -> None:
        """Watch the roots the settings leave on (``restart``: after the settings changed)."""
        if restart:
            self.watcher.stop()
        settings = self.settings()
        roots = watched_roots(settings, self.root_strings()) if self._watch_enabled else []
        self.watcher.watch(roots, settings.threshold)

    def alert(self, message: str) -> None:
        if not self.settings().alerts_enabled:
            return
        if not self.tray.notify(message):  # no system tray: say it in the status bar
            self.w.statusBar().showMessage(f"{message}.")
            self.w.snooze_button.show()

    def snooze_alerts(self) -> None:
        self.watcher.snooze()
        self.w.snooze_button.hide()
        self.w.statusBar().showMessage("Alerts snoozed for an hour.")

    def stop(self) -> None:
        """The window is closing: cancel the scan, stop watching."""
        if self.scan_task is not None:
            self.scan_task.cancel()
        self.watcher.stop()
