"""The compare view: synchronised zoom and pan, split slider, peek, strength and rating."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QRect, Qt  # noqa: E402

from photoenhance.core.rank.ratings import latest_ratings  # noqa: E402
from photoenhance.gui.main_window import COMPARE, MainWindow  # noqa: E402
from photoenhance.gui.preview import to_display  # noqa: E402


@pytest.fixture
def win(tmp_path: Path, photo, make_window, scan) -> MainWindow:
    for i in range(3):
        photo(tmp_path / "lib" / f"p{i}.jpg", seed=i, size=(1600, 1200))
    w = make_window()
    w.resize(1100, 700)
    w.show()
    scan(w, tmp_path / "lib", 3)
    return w


def _open(qtbot, win: MainWindow) -> None:
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000):
        win.table.setCurrentIndex(win.proxy.index(0, 0))
        win.open_compare()
    assert win.tabs.currentIndex() == COMPARE


def test_zoom_and_pan_stay_in_sync(qtbot, win: MainWindow, monkeypatch) -> None:
    from photoenhance.gui import compare_view

    # a 1 MP viewport is enhanced sharp at once; make this one count as big
    monkeypatch.setattr(compare_view, "COARSE_FIRST_PX", 300_000)
    win.resize(1800, 1100)
    _open(qtbot, win)
    left, right = win.compare.left, win.compare.right
    assert left.scale() == right.scale() and left.visible_rect() == right.visible_rect()
    assert right.patches and right.patches[0].rect.contains(right.visible_rect())
    arrived = []
    win.comparer.preview_ready.connect(arrived.append)
    win.compare.actual_button.click()
    qtbot.waitUntil(lambda: any(p.scale == 1.0 for p in arrived), timeout=20_000)
    assert left.scale() == right.scale() == 1.0
    # at 100% only the visible region (plus a margin) is enhanced, at full resolution
    patch = arrived[-1]
    assert patch.rect.contains(right.visible_rect()) and patch.rect != QRect(0, 0, 1600, 1200)
    # with nothing to show at a new strength, a quick half-resolution pass comes first
    arrived.clear()
    win.compare.strength.setValue(50)
    qtbot.waitUntil(lambda: any(p.scale == 1.0 for p in arrived), timeout=20_000)
    area = patch.rect.width() * patch.rect.height()
    assert area > 300_000 and [p.scale for p in arrived] == [0.5, 1.0]
    assert {p.strength for p in right.patches} == {0.5}
    before = right.visible_rect()
    qtbot.mousePress(left, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(left, QPoint(60, 70))
    qtbot.mouseRelease(left, Qt.MouseButton.LeftButton, pos=QPoint(60, 70))
    assert right.visible_rect() == left.visible_rect()
    assert before.width() < 1600 and right.visible_rect() != before
    win.compare.fit()
    assert win.compare.state.zoom is None and left.scale() == right.scale() < 1.01


def test_split_slider_and_peek(qtbot, win: MainWindow) -> None:
    _open(qtbot, win)
    win.compare.split_button.click()
    assert not win.compare.left.isVisible() and win.compare.split_slider.isVisible()
    win.compare.split_slider.setValue(30)
    assert win.compare.right.split == pytest.approx(0.3)
    win.compare.split_button.click()
    assert win.compare.right.split is None and win.compare.left.isVisible()
    qtbot.keyPress(win.compare, Qt.Key.Key_Space)
    assert win.compare.right.peek
    qtbot.keyRelease(win.compare, Qt.Key.Key_Space)
    assert not win.compare.right.peek


def test_strength_recomputes_preview(qtbot, win: MainWindow) -> None:
    _open(qtbot, win)
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000) as got:
        win.compare.strength.setValue(0)
    assert got.args[0].strength == 0.0
    assert [p.strength for p in win.compare.right.patches] == [0.0]
    patch = got.args[0]
    # zoomed out, the region is enhanced at screen resolution, not the photo's
    assert patch.scale < 1
    assert patch.image.width() == round(patch.rect.width() * patch.scale)


def test_rating_keys_and_next_photo(qtbot, win: MainWindow, catalog) -> None:
    _open(qtbot, win)
    first = win.comparer.row.path
    with qtbot.waitSignal(win.comparer.rating_saved, timeout=10_000):
        qtbot.keyClick(win.compare, Qt.Key.Key_1)
    with qtbot.waitSignal(win.comparer.image_shown, timeout=10_000):
        qtbot.keyClick(win.compare, Qt.Key.Key_J)
    second = win.comparer.row.path
    assert second != first and win.table.currentIndex().row() == 1
    with qtbot.waitSignal(win.comparer.rating_saved, timeout=10_000):
        qtbot.keyClick(win.compare, Qt.Key.Key_4)
    assert dict((str(p), label) for p, label in latest_ratings(catalog)) == {first: 2, second: -1}
    ratings = {r.path: r.rating for r in win.model.all_rows()}  # updated in place
    assert ratings[first] == 2 and ratings[second] == -1
    win.show_kind.setCurrentIndex(win.show_kind.findData("rated"))
    assert win.proxy.rowCount() == 2
    win.show_kind.setCurrentIndex(win.show_kind.findData("all"))
    with qtbot.waitSignal(win.comparer.image_shown, timeout=10_000):
        qtbot.keyClick(win.compare, Qt.Key.Key_K)
    assert win.comparer.row.path == first


def test_display_is_upright_8bit_rgb() -> None:
    import numpy as np

    arr = np.zeros((2, 3, 1), np.uint16)
    arr[0, 2] = 65535
    out = to_display(arr, 6)  # rotate 90° clockwise for display
    assert out.shape == (3, 2, 3) and out.dtype == np.uint8
    assert out[2, 1].tolist() == [255, 255, 255]


def test_missing_enhancer_is_said_plainly(qtbot, tmp_path: Path, photo, make_window, scan) -> None:
    from photoenhance.core.errors import ModelError
    from photoenhance.core.jobs.lane import LazyModel

    def missing():
        raise ModelError("models/enhancer-v1.pt is missing")

    photo(tmp_path / "lib" / "a.jpg")
    w = make_window(enhancer=LazyModel(missing, "Enhancement model"))
    w.show()
    scan(w, tmp_path / "lib", 1)
    w.table.setCurrentIndex(w.proxy.index(0, 0))
    w.open_compare()
    qtbot.waitUntil(lambda: "not available" in w.compare.message.text(), timeout=10_000)
    assert w.compare.message.text() == (
        "Enhancement model not available: models/enhancer-v1.pt is missing"
    )
    assert w.compare.left.image is not None  # the original still shows
    with qtbot.waitSignal(w.batcher.failed, timeout=10_000):
        w.enhance_selection()
    assert "not available" in w.batch.status.text()
    assert "Traceback" not in w.batch.status.text()


class _Recorder:
    """An enhancer that returns its input and remembers the shapes and plans it was given."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.last = None

    def enhance(self, arr, strength=1.0, tile=None, cancel=None, plan=None):
        self.shapes.append(arr.shape)
        self.last = arr
        self.calls = getattr(self, "calls", []) + [(strength, plan)]
        self.plan = plan
        return arr


def _planned(**kw):
    from photoenhance.core.ml.plan import EnhancePlan

    return EnhancePlan(measured=True, **kw)


def test_preview_uses_the_whole_photos_plan() -> None:
    """A region is enhanced with the photo's plan (made once, on the full pixels), or the
    unmeasured plan when the setting is off; a quick image plans its crop."""
    import numpy as np

    from photoenhance.core.ml.plan import EnhancePlan
    from photoenhance.gui.preview import DisplayImage, enhance_region, reduce, to_qimage

    arr = np.zeros((300, 400, 3), np.uint8)
    small = reduce(arr, 200)
    plan = _planned(need=0.5, noise=7.0)
    img = DisplayImage("x.jpg", arr, to_qimage(arr), to_qimage(small), small, plan=plan)
    rec = _Recorder()
    enhance_region(img, QRect(0, 0, 100, 100), 1.0, rec, 0.8)
    assert rec.calls[-1] == (0.8, plan)  # the noise level reaches the guard, as in the batch
    enhance_region(img, QRect(0, 0, 100, 100), 1.0, rec, 0.8, auto=False)
    assert rec.calls[-1] == (0.8, EnhancePlan())
    quick = DisplayImage("x.jpg", None, None, to_qimage(small), small, full_size=(400, 300))
    enhance_region(quick, QRect(0, 0, 400, 300), 0.5, rec, 0.8)
    assert rec.plan.measured and rec.plan.need == 0.0  # the (flat) crop, measured


def test_preview_passes_the_photos_blur_hint_scaled_with_the_crop() -> None:
    """The blur hint measured on the full photo reaches the enhancer, reduced as the crop is
    reduced (a zoomed-out crop shows its blur smaller); none with automatic strength off."""
    import numpy as np

    from photoenhance.gui.preview import DisplayImage, enhance_region, reduce, to_qimage

    arr = np.zeros((300, 400, 3), np.uint8)
    small = reduce(arr, 200)
    img = DisplayImage("x.jpg", arr, to_qimage(arr), to_qimage(small), small,
                       plan=_planned(blur=0.8))
    rec = _Recorder()
    enhance_region(img, QRect(0, 0, 100, 100), 1.0, rec, 1.0)
    assert rec.plan.blur == pytest.approx(0.8)
    enhance_region(img, QRect(0, 0, 100, 100), 0.5, rec, 1.0)
    assert rec.plan.blur == pytest.approx(0.4)
    enhance_region(img, QRect(0, 0, 100, 100), 1.0, rec, 1.0, auto=False)
    assert rec.plan.blur is None  # not measured: the enhancer gets no hint


def test_preview_passes_the_photos_route() -> None:
    """The specialist picked for the whole photo enhances its regions; a blurred photo's
    crop reduced until it no longer reads blurred goes to the general net."""
    import numpy as np

    from photoenhance.gui.preview import DisplayImage, enhance_region, reduce, to_qimage

    arr = np.zeros((300, 400, 3), np.uint8)
    small = reduce(arr, 200)

    def image(route: str, blur: float) -> DisplayImage:
        return DisplayImage("x.jpg", arr, to_qimage(arr), to_qimage(small), small,
                            plan=_planned(blur=blur, route=route))

    rec = _Recorder()
    enhance_region(image("noise", 0.0), QRect(0, 0, 100, 100), 0.5, rec, 1.0)
    assert rec.plan.route == "noise"
    enhance_region(image("blur", 0.9), QRect(0, 0, 100, 100), 1.0, rec, 1.0)
    assert rec.plan.route == "blur"
    enhance_region(image("blur", 0.9), QRect(0, 0, 100, 100), 0.5, rec, 1.0)
    assert rec.plan.route is None
    enhance_region(image("noise", 0.0), QRect(0, 0, 100, 100), 1.0, rec, 1.0, auto=False)
    assert rec.plan.route is None


def test_zoomed_out_previews_crop_the_reduced_copy() -> None:
    import numpy as np

    from photoenhance.gui.preview import PROXY_SIDE, DisplayImage, enhance_region, reduce, to_qimage

    arr = np.random.default_rng(0).integers(0, 256, (2000, 3300, 3), dtype=np.uint8)
    small = reduce(arr, PROXY_SIDE)
    assert PROXY_SIDE <= small.shape[1] < 2 * PROXY_SIDE and small.shape[0] == 1000
    img = DisplayImage("x.jpg", arr, to_qimage(arr), to_qimage(small), small)
    rec = _Recorder()
    rect = QRect(300, 200, 2000, 1400)
    patch = enhance_region(img, rect, 0.25, rec, 1.0)
    assert rec.shapes[-1] == (350, 500, 3)
    assert (patch.image.width(), patch.image.height()) == (500, 350)
    # the reduced copy's pixels are the ones enhanced
    from PIL import Image

    want = Image.fromarray(small[100:800, 150:1150]).resize((500, 350), Image.Resampling.BILINEAR)
    assert np.array_equal(rec.last, np.asarray(want))
    enhance_region(img, QRect(10, 20, 300, 200), 1.0, rec, 1.0)
    assert rec.shapes[-1] == (200, 300, 3)  # 100 %: the full pixels, uncropped by scale


def test_opens_at_100_percent_when_asked_while_loading(qtbot, win: MainWindow, monkeypatch) -> None:
    from photoenhance.gui import compare_controller

    decodes = []
    real = compare_controller.decode_for_display
    monkeypatch.setattr(
        compare_controller,
        "decode_for_display",
        lambda p, quick=None: decodes.append(p) or real(p, quick),
    )
    arrived = []
    win.comparer.preview_ready.connect(arrived.append)
    win.table.setCurrentIndex(win.proxy.index(0, 0))
    win.open_compare()
    win.compare.actual_size()  # Z pressed before the photo is there
    qtbot.waitUntil(lambda: bool(arrived), timeout=20_000)
    assert win.compare.state.zoom == 1.0
    assert arrived[0].scale == 1.0  # no zoomed-out pass first
    assert arrived[0].rect.contains(win.compare.right.visible_rect())
    assert win.enhancer.loaded
    # panning crops the decoded pixels again; it never decodes again
    arrived.clear()
    win.compare.state.set(1.0, win.compare.state.center + QPoint(300, 0).toPointF())
    qtbot.waitUntil(lambda: any(p.scale == 1.0 for p in arrived), timeout=20_000)
    assert len(decodes) == 1


def test_big_jpeg_shows_its_reduced_copy_before_the_full_pixels(
    qtbot, tmp_path: Path, photo, make_window, scan
) -> None:
    photo(tmp_path / "lib" / "big.jpg", size=(3400, 2300))
    w = make_window()
    w.resize(1100, 700)
    w.show()
    scan(w, tmp_path / "lib", 1)
    seen = []
    real_show, real_replace = w.compare.show_image, w.compare.replace_image
    w.compare.show_image = lambda img, title="": seen.append(img) or real_show(img, title)
    w.compare.replace_image = lambda img: seen.append(img) or real_replace(img)
    arrived = []
    w.comparer.preview_ready.connect(arrived.append)
    w.table.setCurrentIndex(w.proxy.index(0, 0))
    w.open_compare()
    qtbot.waitUntil(lambda: len([i for i in seen if i is not None]) == 2, timeout=20_000)
    quick, full = [i for i in seen if i is not None]
    assert quick.pixels is None and quick.size == full.size == (3400, 2300)
    assert quick.proxy_pixels.shape == (1150, 1700, 3)  # DCT-scaled by 2, not decoded fully
    assert full.pixels.shape == (2300, 3400, 3) and full.proxy_pixels is quick.proxy_pixels
    assert 0 < quick.max_scale() < 1 and full.max_scale() == 1.0
    qtbot.waitUntil(lambda: bool(arrived), timeout=20_000)
    assert arrived[0].scale < 0.5  # the fit view needs no more than the reduced copy
    w.compare.actual_size()
    qtbot.waitUntil(lambda: any(p.scale == 1.0 for p in arrived), timeout=20_000)


def test_decoded_photo_says_why_it_gets_its_strength(tmp_path) -> None:
    import numpy as np
    from PIL import Image

    from photoenhance.gui.preview import decode_for_display

    rng = np.random.default_rng(0)
    cells = Image.fromarray(rng.integers(0, 256, (24, 32, 3), np.uint8))
    base = np.asarray(cells.resize((256, 192)))
    noisy = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    shown = decode_for_display(str(tmp_path / "noisy.png"))
    assert shown.auto_strength == 1.0 and shown.auto_reason == "noise"


def test_stale_previews_are_dropped_in_the_lane(qtbot, win: MainWindow, monkeypatch) -> None:
    """Previews asked for while the lane is busy: only the newest runs; the others never do."""
    import threading

    from photoenhance.gui import compare_controller

    _open(qtbot, win)
    ran: list[float] = []
    real = compare_controller.enhance_region
    monkeypatch.setattr(compare_controller, "enhance_region",
                        lambda image, rect, scale, enh, strength, *a: ran.append(strength)
                        or real(image, rect, scale, enh, strength, *a))
    release, busy = threading.Event(), threading.Event()
    win.lane.submit(lambda _c: (busy.set(), release.wait(20)))  # a batch photo, say
    assert busy.wait(10)
    rect = win.compare.right.visible_rect()
    for strength in (0.2, 0.4, 0.6):
        win.comparer.request_preview(rect, 0.5, strength)
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000) as got:
        release.set()
    assert got.args[0].strength == 0.6 and ran == [0.6]


def test_tone_setting_previews_the_tone_step(qtbot, win: MainWindow, monkeypatch) -> None:
    """With "Correct exposure, contrast and colour" on, the preview is restored then
    tone-corrected with the photo's own plan, and the header says what the tone step did."""
    import numpy as np

    import photoenhance.core.ml.tone as tone
    from photoenhance.core.ml.tone import ToneEdit, TonePlan

    class Brighter(TonePlan):
        def render(self, image: np.ndarray) -> np.ndarray:
            return np.minimum(image.astype(np.int16) + 40, 255).astype(np.uint8)

    planned = []

    def fake_plan(pixels: np.ndarray, strength: float) -> TonePlan:
        planned.append((pixels.shape, strength))
        return Brighter(None, ToneEdit("exposure +0.7 EV, warmer", strength, 0.7, 1.0))

    monkeypatch.setattr(tone, "plan_tone", fake_plan)
    _open(qtbot, win)
    plain = win.compare.right.patches[0]
    assert plain.tone is None and "tone:" not in win.compare.title.text()
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000) as got:
        win.comparer.set_tone(True)
    patch = got.args[0]
    assert patch.tone == "exposure +0.7 EV, warmer"
    assert "tone: exposure +0.7 EV, warmer" in win.compare.title.text()
    before = plain.image.pixelColor(5, 5).lightness()
    assert patch.image.pixelColor(5, 5).lightness() > before
    assert len(planned) == 1  # one plan per photo and strength, reused by later previews


def test_missing_tone_model_still_previews_the_restoration(qtbot, win: MainWindow,
                                                           monkeypatch) -> None:
    """With the tone setting on and the tone model missing, the preview still comes (the
    restoration alone) and the header says why the tone step is not shown."""
    import photoenhance.core.ml.tone as tone
    from photoenhance.core.errors import ModelError

    def missing(pixels, strength):
        raise ModelError("Model weights tone-v1.pt are missing.")

    monkeypatch.setattr(tone, "plan_tone", missing)
    _open(qtbot, win)
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000) as got:
        win.comparer.set_tone(True)
    assert got.args[0].tone.startswith("not available")
    assert "tone: not available (Model weights tone-v1.pt are missing.)" in \
        win.compare.title.text()
