"""The ``scan`` and ``rank`` commands, through ``main()`` and one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog, Photo, Score, unreadable_photos


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "sub").mkdir(parents=True)
    for name, size in (("a.jpg", (40, 30)), ("sub/b.png", (8, 6)), ("c.webp", (5, 5))):
        Image.new("RGB", size).save(root / name)
    (root / "bad.jpg").write_bytes(b"nope")
    return root


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cat" / "catalog.sqlite"


def counts(out: str) -> dict[str, int]:
    pairs = (line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return {k: int(v) for k, v in pairs if v.isdigit()}


def test_scan_prints_counts(lib: Path, db: Path, capsys) -> None:
    assert main(["--catalog", str(db), "scan", str(lib)]) == 0
    out, err = capsys.readouterr()
    assert counts(out) == {"added": 3, "updated": 0, "moved": 0, "missing": 0,
                           "unreadable": 1, "unchanged": 0, "scored": 3}
    assert err == ""  # no progress bar when not on a terminal
    (lib / "c.webp").unlink()
    assert main(["--catalog", str(db), "scan", str(lib)]) == 0
    assert counts(capsys.readouterr().out)["missing"] == 1


def test_scan_names_the_unreadable_and_a_rescan_counts_them_the_same(
        lib: Path, db: Path, capsys) -> None:
    assert main(["--catalog", str(db), "-v", "scan", str(lib), "--no-score"]) == 0
    out = capsys.readouterr().out
    bad = lib.resolve() / "bad.jpg"
    assert f"  {bad}: not a readable image" in out
    assert main(["--catalog", str(db), "scan", str(lib), "--no-score", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    # the rescan reads nothing, yet counts and names the unreadable file as the first did
    assert {k: again[k] for k in ("added", "unreadable", "unchanged")} == {
        "added": 0, "unreadable": 1, "unchanged": 3}
    assert again["scored"] is None and again["unreadable_folders"] == []
    (row,) = again["unreadable_files"]
    assert row["path"] == str(bad) and "not a readable image" in row["reason"]
    with Catalog.open(db) as catalog, catalog.session() as s:
        assert unreadable_photos(s) == [(bad, row["reason"])]


def test_scan_missing_root_is_one_line(tmp_path: Path, db: Path, capsys) -> None:
    assert main(["--catalog", str(db), "scan", str(tmp_path / "nope")]) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "nope: folder not found" in err and out == ""


@pytest.mark.parametrize("argv", [["scan"], ["rank", "--limit", "x"],
                                  ["rank", "--limit", "-2"], ["rank", "--min-score", "hi"]])
def test_bad_arguments_are_one_line(argv: list[str], db: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--catalog", str(db), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("photoenhance: ")


def test_rank_before_scores(lib: Path, db: Path, capsys) -> None:
    assert main(["--catalog", str(db), "rank"]) == 0
    assert "No scores yet" in capsys.readouterr().out
    main(["--catalog", str(db), "scan", "--no-score", str(lib)])
    capsys.readouterr()
    assert main(["--catalog", str(db), "rank"]) == 0
    assert capsys.readouterr().out.startswith("No scores yet: 3 photo")
    assert main(["--catalog", str(db), "rank", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert len(rows) == 3 and "No scores yet" in err
    assert all(r["score"] is None and r["factors"] is None for r in rows)
    assert {(Path(r["path"]).name, r["width"], r["height"]) for r in rows} == {
        ("a.jpg", 40, 30), ("b.png", 8, 6), ("c.webp", 5, 5)}


def score_all(db: Path) -> None:
    with Catalog.open(db) as cat, cat.session() as s:
        ok = select(Photo).where(Photo.status == "ok").order_by(Photo.path)
        for i, photo in enumerate(s.scalars(ok)):
            s.add(Score(photo=photo, model_id="m", model_version="1", score=0.1 + 0.3 * i,
                        noise=0.5, blur=0.25, jpeg=0.0, clipping=0.125))


def test_rank_best_first(lib: Path, db: Path, capsys) -> None:
    main(["--catalog", str(db), "scan", str(lib)])
    score_all(db)
    capsys.readouterr()
    assert main(["--catalog", str(db), "rank", "--json", "--limit", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["score"] for r in rows] == pytest.approx([0.7, 0.4])
    assert rows[0]["factors"] == {"noise": 0.5, "blur": 0.25, "jpeg": 0.0, "clipping": 0.125}
    assert main(["--catalog", str(db), "rank", "--min-score", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "0.700" in out and "0.400" not in out
    assert main(["--catalog", str(db), "rank", "--min-score", "5"]) == 0
    assert "No photos scored 5.0 or more" in capsys.readouterr().out


def test_subprocess_errors_have_no_traceback(tmp_path: Path, lib: Path) -> None:
    env = {**os.environ, "PHOTOENHANCE_CATALOG": str(tmp_path / "env.sqlite")}
    run = [sys.executable, "-m", "photoenhance"]
    bad = subprocess.run([*run, "scan", str(lib), str(tmp_path / "missing")],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip().endswith("missing: folder not found")
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    good = subprocess.run([*run, "scan", str(lib)], capture_output=True, text=True, env=env)
    assert good.returncode == 0 and "added: 3" in good.stdout and good.stderr == ""
    assert (tmp_path / "env.sqlite").exists()


def test_progress_bar_on_a_terminal(lib: Path, db: Path, capsys, monkeypatch) -> None:
    from photoenhance.cli.commands import scan as scan_cmd

    monkeypatch.setattr(scan_cmd, "_interactive", lambda: True)
    scan_module = sys.modules["photoenhance.core.library.scan"]
    monkeypatch.setattr(scan_module._Throttle, "due", lambda self: True)  # report every file
    assert main(["--catalog", str(db), "scan", str(lib)]) == 0
    out, err = capsys.readouterr()
    assert "files" in err and "/s" in err  # count and rate, on stderr
    assert counts(out)["added"] == 3


def test_scan_scores_new_photos_then_rank_orders_them(lib: Path, db: Path, capsys,
                                                       monkeypatch) -> None:
    import json

    from photoenhance.core.ml.nets.improvability import ImprovabilityNet
    from photoenhance.core.rank.scorer import Scorer

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = ImprovabilityNet(stem=8, stages=((1, 8, 1, 1), (2, 16, 1, 2)), feat=16, hidden=8)
    monkeypatch.setattr(Scorer, "load", classmethod(lambda cls, *a, **k: cls(net.eval())))
    assert main(["--catalog", str(db), "scan", str(lib)]) == 0
    out = capsys.readouterr().out
    scored = counts(out)["scored"]
    assert scored >= 1
    assert main(["--catalog", str(db), "rank", "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    scores = [r["score"] for r in ranked if r["score"] is not None]
    assert len(scores) == scored and scores == sorted(scores, reverse=True)
    assert set(ranked[0]["factors"]) == {"noise", "blur", "jpeg", "clipping"}
    # A rescan scores nothing again: every photo already has this model's score.
    assert main(["--catalog", str(db), "scan", str(lib)]) == 0
    assert counts(capsys.readouterr().out)["scored"] == 0
