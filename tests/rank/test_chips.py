"""The chip rule: a factor shows only when it accounts for a material part of the gain."""

from __future__ import annotations

from photoenhance.core.rank.chips import MATERIAL_DB, chips


def test_no_gain_means_no_chip_whatever_the_heads_say() -> None:
    strong = {"noise": 0.9, "blur": 0.8, "jpeg": 0.7, "clipping": 1.0}
    assert chips(strong, 0.0) == []
    assert chips(strong, -2.0) == []
    assert chips(strong, None) == []


def test_a_blown_out_photo_gets_no_jpeg_chip() -> None:
    # clipping is strong, jpeg weak: the restorer's small gain goes to jpeg only in share
    blown = {"noise": 0.0, "blur": 0.0, "jpeg": 0.1, "exposure": 0.8, "clipping": 1.0}
    assert chips(blown, 0.3) == []
    assert chips(blown, 0.3, tone_gain_db=3.0) == ["clipping", "exposure"]


def test_chips_follow_the_share_of_the_gain() -> None:
    f = {"noise": 0.6, "blur": 0.05, "jpeg": 0.4}
    assert chips(f, 4.0) == ["noise", "jpeg"]
    # the same strengths with a small gain: only the larger share is material
    assert chips(f, 1.0) == ["noise"]
    assert chips(f, 1.5 * MATERIAL_DB) == []  # noise gets 0.6 / 1.05 of 0.75 dB


def test_at_most_two_chips_and_missing_values_are_skipped() -> None:
    f = {"noise": 0.5, "blur": 0.5, "jpeg": 0.5, "colour": None}
    assert len(chips(f, 9.0)) == 2
    assert chips(None, 5.0) == []
