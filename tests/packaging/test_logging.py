"""The rotating log file in the user log folder (XDG dirs are per-test, see tests/conftest.py)."""

from __future__ import annotations

import logging

import pytest

from photoenhance.core import logs, paths


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def _flush(root: logging.Logger) -> None:
    for h in root.handlers:
        h.flush()


def test_log_line_lands_in_file_under_log_dir(restore_root_logger):
    path = logs.setup_logging(verbose=False)
    assert path == paths.log_dir() / "photoenhance.log"
    logging.getLogger("photoenhance.test").info("hello from the log test")
    logging.getLogger("photoenhance.test").debug("debug is not kept unless verbose")
    _flush(restore_root_logger)
    text = path.read_text(encoding="utf-8")
    assert "INFO photoenhance.test: hello from the log test" in text
    assert "debug is not kept" not in text


def test_second_call_replaces_handlers_and_verbose_keeps_debug(restore_root_logger):
    logs.setup_logging(verbose=False)
    path = logs.setup_logging(verbose=True)
    ours = [h for h in restore_root_logger.handlers if getattr(h, logs._MARK, False)]
    assert len(ours) == 2
    logging.getLogger("photoenhance.test").debug("a debug line")
    _flush(restore_root_logger)
    assert path is not None
    assert path.read_text(encoding="utf-8").count("a debug line") == 1


def test_rotates_keeping_three_old_files(restore_root_logger, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = logs.setup_logging(verbose=False)
    log = logging.getLogger("photoenhance.test")
    for i in range(200):
        log.info("line %d %s", i, "x" * 50)
    _flush(restore_root_logger)
    assert path is not None
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["photoenhance.log", "photoenhance.log.1", "photoenhance.log.2",
                     "photoenhance.log.3"]
    assert path.stat().st_size <= 2_000


def test_unwritable_log_dir_falls_back_to_stderr_only(restore_root_logger, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(logs, "log_dir", lambda: blocker / "logs")
    assert logs.setup_logging(verbose=False) is None
    ours = [h for h in restore_root_logger.handlers if getattr(h, logs._MARK, False)]
    assert [type(h) for h in ours] == [logging.StreamHandler]


def test_cli_main_writes_the_log(restore_root_logger, capsys):
    from photoenhance.cli.main import main

    main(["doctor", "--json"])
    logging.getLogger("photoenhance.cli").info("after main")
    _flush(restore_root_logger)
    assert "after main" in logs.log_file().read_text(encoding="utf-8")
