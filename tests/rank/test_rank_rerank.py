"""Calibration re-ranks the whole catalog from the stored vectors, and --reset restores it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_helpers import user_photos
from sqlalchemy import select

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog, Embedding, Photo, Score, ranked_photos
from photoenhance.core.rank.catalog_scoring import score_unscored
from photoenhance.core.rank.metrics import spearman
from photoenhance.core.rank.ratings import rate
from photoenhance.core.rank.rerank import photos_needing_rescore, stored_gains
from photoenhance.core.rank.scale import gain_to_score
from photoenhance.core.rank.scorer import Scorer


@pytest.fixture
def rated_catalog(wide_model: Path, tmp_path: Path) -> tuple[Path, dict[Path, int]]:
    """60 photos scored by the shipped (random) layer; the first 40 rated by a user whose
    rule (bright photos gain most) the shipped layer disagrees with."""
    db = tmp_path / "cat.sqlite"
    paths, labels = user_photos(tmp_path / "lib", 60)
    with Catalog.open(db) as catalog:
        for path, label in zip(paths[:40], labels[:40], strict=True):
            rate(catalog, path, label)
        with catalog.session() as s:
            s.add_all(Photo(path=p, size=p.stat().st_size) for p in paths[40:])
        assert score_unscored(catalog, Scorer.load(wide_model)).scored == 60
    return db, dict(zip(paths, labels, strict=True))


def _order(db: Path) -> list[tuple[Path, float, float]]:
    with Catalog.open(db) as catalog, catalog.session() as s:
        return [(r.photo.path, r.score.score, r.score.gain_db)
                for r in ranked_photos(s) if r.score is not None]


def test_scoring_stores_the_vector_behind_each_gain(rated_catalog, wide_model: Path) -> None:
    db, _labels = rated_catalog
    scorer = Scorer.load(wide_model, use_user_head=False)
    with Catalog.open(db) as catalog, catalog.session() as s:
        rows = s.execute(select(Score, Embedding).join(Embedding)).all()
        assert len(rows) == 60
        assert {e.model_sha for _s, e in rows} == {scorer.sha256}
        assert {len(e.vector) for _s, e in rows} == {2 * scorer.net.overall.in_features}
        gains = stored_gains(scorer.net.overall, [e.vector for _s, e in rows],
                             np.array([e.unchanged for _s, e in rows]))
        # the gain re-derived from the stored vector is the one scoring stored
        assert gains == pytest.approx([sc.gain_db for sc, _e in rows], abs=1.5e-3)
        assert all(sc.score == round(float(gain_to_score(sc.gain_db)), 4) for sc, _e in rows)


def test_calibrate_moves_the_favoured_photos_up_and_reset_restores(
        rated_catalog, wide_model: Path, capsys) -> None:
    db, labels = rated_catalog
    base = _order(db)
    base_rho = spearman(np.array([sc for _p, sc, _g in base]),
                        np.array([labels[p] for p, _s, _g in base], dtype=float))
    assert main(["--catalog", str(db), "calibrate", "--model", str(wide_model)]) == 0
    out = capsys.readouterr().out
    assert "re-ranked 60 photos" in out and "moved" in out
    after = _order(db)
    assert [p for p, *_ in after] != [p for p, *_ in base]
    rho = spearman(np.array([sc for _p, sc, _g in after]),
                   np.array([labels[p] for p, _s, _g in after], dtype=float))
    assert base_rho < 0.2 < 0.6 < rho  # the whole library, unrated photos included, follows
    # the photos the user rated "significant" moved up, on average by a lot
    top = [p for p in labels if labels[p] == 2]
    place = {name: [p for p, *_ in order].index for name, order in (("b", base), ("a", after))}
    assert np.mean([place["a"](p) for p in top]) < np.mean([place["b"](p) for p in top]) - 10
    # the re-ranked scores are what a fresh scoring with the user's layer gives
    fresh = {r.path: r for r in Scorer.load(wide_model).score_paths([p for p, *_ in after])}
    for path, score, gain in after:
        assert gain == pytest.approx(fresh[path].gain_db, abs=1.5e-3)
        assert score == pytest.approx(fresh[path].score, abs=2e-3)
    assert main(["--catalog", str(db), "calibrate", "--reset", "--model", str(wide_model)]) == 0
    assert "back to the shipped calibration" in capsys.readouterr().out
    restored = _order(db)
    assert [p for p, *_ in restored] == [p for p, *_ in base]
    assert [g for *_, g in restored] == pytest.approx([g for *_, g in base], abs=1.5e-3)


def test_photos_without_a_vector_are_listed_and_rescored(
        rated_catalog, wide_model: Path, capsys) -> None:
    db, _labels = rated_catalog
    sha = Scorer.load(wide_model).sha256
    with Catalog.open(db) as catalog:
        with catalog.session() as s:  # as a catalog migrated from v4 holds them
            victims = s.scalars(select(Embedding).limit(3)).all()
            for e in victims:
                s.delete(e)
        need = photos_needing_rescore(catalog, sha)
        assert len(need) == 3
    assert main(["--catalog", str(db), "calibrate", "--model", str(wide_model)]) == 0
    out = capsys.readouterr().out
    assert "re-ranked 57 photos" in out and "3 photo(s) were scored before" in out
    assert str(need[0][1]) in out
    assert main(["--catalog", str(db), "calibrate", "--rescore", "--model",
                 str(wide_model)]) == 0
    assert "rescored 3 photo(s)" in capsys.readouterr().out
    with Catalog.open(db) as catalog:
        assert photos_needing_rescore(catalog, sha) == []


def test_calibration_reads_the_stored_vectors_not_the_photos(rated_catalog,
                                                             wide_model: Path) -> None:
    from photoenhance.core.rank.calibration import calibrate_catalog

    db, labels = rated_catalog
    for path in labels:
        path.unlink()  # nothing left to decode: the catalog's vectors must do
    with Catalog.open(db) as catalog:
        outcome = calibrate_catalog(catalog, Scorer.load(wide_model, use_user_head=False))
    assert outcome.report is not None and outcome.report.used == 40
    assert outcome.report.after > 0.6 and outcome.rerank.rescored == 60
    assert outcome.summary().startswith("Ranking updated from your 40 ratings: ")
