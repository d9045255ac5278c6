"""Behaviour of the batch view: create, run, cancel and resume enhancement jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.settings import Settings
from photoenhance.gui import bridge, jobs
from photoenhance.gui.batch_view import BatchView
from photoenhance.gui.eta import format_eta


class BatchController(QObject):
    """One batch at a time, on the inference lane (previews run between its photos)."""

    started = Signal(int)  # job id
    progressed = Signal(object)  # BatchProgress
    finished = Signal(object)  # BatchOutcome
    stopped = Signal(int)  # cancelled: the job stays resumable
    failed = Signal(str)

    def __init__(self, view: BatchView, catalog: Catalog, settings: Callable[[], Settings],
                 lane: InferenceLane, io: QThreadPool, parent: Any = None) -> None:
        super().__init__(parent)
        self.view, self.catalog, self.settings = view, catalog, settings
        self.lane, self.io = lane, io
        self.job_id: int | None = None
        self.task: bridge.Task | None = None
        view.cancel_requested.connect(self.cancel)
        view.resume_requested.connect(self.resume)
        view.open_output.connect(self.open_output)

    @property
    def running(self) -> bool:
        return self.task is not None

    def start_worth_fixing(self) -> None:
        self._create(None, self.settings().threshold)

    def start_files(self, files: list[str]) -> None:
        if files:
            self._create(files, None)

    def _create(self, files: list[str] | None, min_score: float | None) -> None:
        if self.running:
            return
        task = bridge.Task(jobs.new_job(self.catalog, self.settings(), files, min_score), self)
        task.finished.connect(self._created)
        task.failed.connect(self._failed)
        bridge.start(task, self.io)

    def _created(self, job_id: object) -> None:
        if job_id is None:
            self.view.status.setText("Nothing to enhance: no photo is above the threshold.")
            return
        self.run(int(job_id))  # type: ignore[call-overload]

    def run(self, job_id: int) -> None:
        """Run or resume ``job_id``."""
        if self.running:
            return
        self.job_id = job_id
        task = bridge.Task(jobs.run_batch(self.catalog, job_id, self.lane), self)
        task.progressed.connect(self._progressed)
        task.finished.connect(self._finished)
        task.cancelled.connect(self._cancelled)
        task.failed.connect(self._failed)
        self.task = task
        self.view.set_running(True)
        self.view.status.setText("Starting…")
        self.started.emit(job_id)
        bridge.start_on_lane(task, self.lane)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.view.status.setText("Cancelling after the current tile…")

    def resume(self) -> None:
        if self.job_id is not None:
            self.run(self.job_id)

    def _progressed(self, bp: jobs.BatchProgress) -> None:
        self.view.show_progress(bp, format_eta(bp.progress.eta_s))
        self.progressed.emit(bp)

    def _finished(self, outcome: jobs.BatchOutcome) -> None:
        self.task = None
        s = outcome.summary
        text = "Batch finished." if s is None else (
            f"Batch finished: {s.done} enhanced, {s.failed} failed, {s.skipped} skipped.")
        self.view.show_items(outcome.items, text)
        self.view.set_running(False, resumable=False)
        self.finished.emit(outcome)

    def _cancelled(self) -> None:
        self.task = None
        job_id = self.job_id
        assert job_id is not None
        self.view.set_running(False, resumable=True)
        task = bridge.Task(lambda _p, _c: jobs.item_states(self.catalog, job_id), self)
        task.finished.connect(lambda items: self.view.show_items(
            items, f"Batch cancelled. {sum(i.status == 'queued' for i in items)} photos are "
            "left; Resume continues where it stopped."))
        bridge.start(task, self.io)
        self.stopped.emit(job_id)

    def _failed(self, message: str) -> None:
        self.task = None
        self.view.set_running(False, resumable=self.job_id is not None)
        self.view.status.setText(message)
        self.failed.emit(message)

    def output_folder(self) -> Path | None:
        outs = [Path(i.output) for i in self.view.model.items() if i.output]
        return outs[0].parent if outs else None

    def open_output(self) -> bool:
        folder = self.output_folder()
        if folder is None:
            self.view.status.setText("No enhanced copy has been written yet.")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
