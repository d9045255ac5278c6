"""Calibration from ratings (a simulated user) and the score, rate and calibrate commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rank_helpers import user_photos

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import UsageError
from photoenhance.core.ml.nets.improvability import FACTORS
from photoenhance.core.rank.ratings import latest_ratings, rate
from photoenhance.core.rank.scorer import Scorer
from photoenhance.core.rank.userfit import calibrate
from photoenhance.core.rank.userhead import load_user_head


def test_calibration_learns_a_simulated_users_rule(wide_model: Path, tmp_path: Path) -> None:
    paths, labels = user_photos(tmp_path / "rated", 120)
    report = calibrate(Scorer.load(wide_model), paths, labels)
    assert report.used == 120 and report.held_out == 24
    assert report.before < 0 < 0.6 < report.after


def test_calibration_refuses_too_few_ratings(wide_model: Path, tmp_path: Path) -> None:
    paths, labels = user_photos(tmp_path / "few", 5)
    with pytest.raises(UsageError, match="at least 20"):
        calibrate(Scorer.load(wide_model), paths, labels)


def test_score_json(model_file: Path, photos: list[Path], capsys) -> None:
    assert main(["score", "--json", "--model", str(model_file), *map(str, photos)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in rows] == [str(p) for p in photos]
    assert all(0 <= r["score"] <= 1 and set(r["factors"]) == set(FACTORS) for r in rows)
    assert all(isinstance(r["chips"], list) for r in rows)


def test_score_table_and_missing_file(model_file: Path, photos: list[Path], capsys) -> None:
    assert main(["score", "--model", str(model_file), str(photos[0])]) == 0
    assert "score" in capsys.readouterr().out
    assert main(["score", "--model", str(model_file), "nope.jpg"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_score_scores_the_good_files_and_reports_the_bad_ones(
        model_file: Path, photos: list[Path], tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    args = [str(photos[0]), str(tmp_path / "nope.jpg"), str(text), str(photos[1])]
    assert main(["score", "--json", "--model", str(model_file), *args]) == 1
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [r["path"] for r in rows] == args
    assert [r["score"] is not None for r in rows] == [True, False, False, True]
    assert "nope.jpg: file not found" in captured.err and "notes.jpg" in captured.err
    assert "2 scored, 2 could not be read" in captured.err and "Traceback" not in captured.err


def test_rate_refuses_a_file_that_is_not_a_photo(tmp_path: Path, capsys) -> None:
    db = tmp_path / "cat.sqlite"
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    assert main(["--catalog", str(db), "rate", str(text), "significant"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("photoenhance: cannot rate") and "not an image" in err
    with Catalog.open(db) as catalog:
        assert latest_ratings(catalog) == []


def test_rate_then_calibrate_end_to_end(wide_model: Path, tmp_path: Path, capsys) -> None:
    db = tmp_path / "cat.sqlite"
    paths, labels = user_photos(tmp_path / "rated", 30)
    words = {2: "significant", 1: "moderate", 0: "neutral", -1: "regressed"}
    for path, label in zip(paths[:3], labels[:3], strict=True):
        assert main(["--catalog", str(db), "rate", str(path), words[label]]) == 0
    assert main(["--catalog", str(db), "calibrate", "--model", str(wide_model)]) == 2
    assert "at least 20" in capsys.readouterr().err
    with Catalog.open(db) as catalog:
        for path, label in zip(paths[3:], labels[3:], strict=True):
            rate(catalog, path, label)
        rate(catalog, paths[0], -1)  # a change of mind: the latest rating counts
        assert len(latest_ratings(catalog)) == 30
    assert main(["--catalog", str(db), "calibrate", "--model", str(wide_model)]) == 0
    assert "held-out agreement" in capsys.readouterr().out
    scorer = Scorer.load(wide_model)
    assert scorer.calibrated and load_user_head(scorer.sha256) is not None
    assert main(["--catalog", str(db), "calibrate", "--reset", "--model", str(wide_model)]) == 0
    assert not Scorer.load(wide_model).calibrated
