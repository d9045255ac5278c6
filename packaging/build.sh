#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/photoenhance/ with PyInstaller, then smoke-test it.
#
# Usage: bash packaging/build.sh [--clean] [--no-build] [--cold]
#   --clean     rebuild from scratch (default: reuse build/pyinstaller, so that a changed
#               model or resource only re-copies files)
#   --no-build  only run the smoke test on an existing dist/photoenhance
#   --cold      drop the page cache before the timed runs (needs root; skipped if refused)
#
# PyInstaller goes into its own venv, build/pyi-venv, layered on the app venv (.venv from
# packaging/setup.sh, or $PHOTOENHANCE_APP_VENV) by a .pth file: the bundle is made from the
# exact torch/Qt the app was tested with, nothing big is downloaded twice, and the dev venv
# does not get PyInstaller. The smoke test runs the bundle from a temporary folder with its own
# HOME and XDG dirs, so neither the checkout nor the user's catalog can be picked up:
#   --version, doctor --json (models load from the bundle and match their cards),
#   score --json on one image, enhance on the same image, and the desktop app started
#   offscreen (and under Xvfb with the xcb plugin when xvfb-run is installed), which must
#   still be running after $SMOKE_GUI_SECONDS seconds (default 8) without a traceback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
APP_VENV=${PHOTOENHANCE_APP_VENV:-.venv}
APP_VENV=$(cd "$APP_VENV" 2>/dev/null && pwd || echo "$APP_VENV")  # absolute: the smoke test cd's away
BUILD_VENV=build/pyi-venv
DIST=dist/photoenhance
APP=$DIST/photoenhance
GUI_SECONDS=${SMOKE_GUI_SECONDS:-8}
do_build=1 cold=0 clean=""
for arg in "$@"; do
  case "$arg" in
    --clean) clean=--clean ;;
    --no-build) do_build=0 ;;
    --cold) cold=1 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { printf '\n== %s\n' "$*"; }
fail() { echo "build.sh: FAILED: $*" >&2; exit 1; }

if [ "$do_build" = 1 ]; then
  [ -x "$APP_VENV/bin/python" ] || fail "$APP_VENV not found; run bash packaging/setup.sh first"
  if [ ! -x "$BUILD_VENV/bin/python" ]; then
    say "creating $BUILD_VENV on top of $APP_VENV"
    "$APP_VENV/bin/python" -m venv "$BUILD_VENV"
  fi
  site=$("$BUILD_VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  "$APP_VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" \
    > "$site/zz_app_venv.pth"
  "$BUILD_VENV/bin/python" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10,<7"
  say "PyInstaller $("$BUILD_VENV/bin/python" -m PyInstaller --version)"
  start=$(date +%s)
  "$BUILD_VENV/bin/python" -m PyInstaller --noconfirm $clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/photoenhance.spec
  echo "build took $(( $(date +%s) - start )) s"
fi
[ -x "$APP" ] || fail "$APP was not built"
for f in improvability-v1.pt improvability-v1.json enhancer-v1.pt enhancer-v1.json \
    enhancer-v1-jpeg.pt enhancer-v1-jpeg.json \
    enhancer-v1-noise.pt enhancer-v1-noise.json; do
  [ -f "$DIST/_internal/models/$f" ] || fail "the bundle has no models/$f (train the models, \
then run build.sh again: only the files are re-copied)"
done

# -- smoke test ----------------------------------------------------------------------------------
say "smoke test of $APP"
SMOKE=$(mktemp -d /tmp/photoenhance-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
export HOME=$SMOKE/home XDG_DATA_HOME=$SMOKE/home/data XDG_CONFIG_HOME=$SMOKE/home/config \
  XDG_CACHE_HOME=$SMOKE/home/cache XDG_STATE_HOME=$SMOKE/home/state
unset PYTHONPATH PYTHONHOME PHOTOENHANCE_CATALOG
mkdir -p "$HOME"
APP_ABS=$ROOT/$APP
cp resources/icons/photoenhance-512.png "$SMOKE/icon.png"  # a stand-in photo, always present
"$APP_VENV/bin/python" -c "
from PIL import Image
Image.effect_noise((640, 480), 35).convert('RGB').save('$SMOKE/noisy.jpg', quality=60)"
cd "$SMOKE"

if [ "$cold" = 1 ]; then
  sync; { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null && echo "page cache dropped" \
    || echo "could not drop the page cache (not root?): timings are with a warm cache"
fi
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

t0=$(now); version=$("$APP_ABS" --version); t1=$(now)
echo "$version  ($(elapsed "$t0" "$t1") s, first run)"
[ "$version" = "photoenhance $("$APP_VENV/bin/python" -c 'import photoenhance; print(photoenhance.__version__)')" ] \
  || fail "--version printed '$version'"
t0=$(now); "$APP_ABS" --version >/dev/null; t1=$(now)
echo "--version again: $(elapsed "$t0" "$t1") s"

"$APP_ABS" doctor --json > doctor.json || fail "doctor exited $?"
python3 - "$ROOT/$DIST" doctor.json <<'PY' || fail "doctor: models not found in the bundle"
import json, sys
bundle, info = sys.argv[1], json.load(open(sys.argv[2]))
assert info["models_dir"].startswith(bundle), info["models_dir"]
ok = {m["file"]: m["matches_card"] for m in info["models"]}
assert ok.get("improvability-v1.pt") is True and ok.get("enhancer-v1.pt") is True, ok
print(f"doctor: torch {info['torch']}, {info['qt']}, device {info['device']}, "
      f"models {sorted(ok)} match their cards")
PY

t0=$(now); "$APP_ABS" score --json noisy.jpg icon.png > score.json || fail "score exited $?"; t1=$(now)
echo "score (2 images, first run): $(elapsed "$t0" "$t1") s"
python3 - score.json <<'PY' || fail "score output"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 2 and all(0 <= r["score"] <= 1 for r in rows), rows
print("scores:", ", ".join(f"{r['path']}={r['score']:.3f}" for r in rows))
PY
t0=$(now); "$APP_ABS" score --json noisy.jpg >/dev/null; t1=$(now)
echo "score (1 image, again): $(elapsed "$t0" "$t1") s"

t0=$(now); "$APP_ABS" enhance --json --out enhanced noisy.jpg > enhance.json \
  || fail "enhance exited $?"; t1=$(now)
echo "enhance (640x480): $(elapsed "$t0" "$t1") s"
[ -n "$(ls enhanced)" ] || fail "enhance wrote nothing"

gui_check() {  # $1 = label; the rest = command prefix (env or xvfb-run)
  local label=$1; shift
  # its own process group, so that stopping it also stops xvfb-run's Xvfb and the app
  setsid "$@" "$APP_ABS" gui > "gui-$label.log" 2>&1 &
  local pid=$!
  sleep "$GUI_SECONDS"
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || true; cat "gui-$label.log" >&2; fail "the app ($label) exited early"
  fi
  kill -TERM -- "-$pid" 2>/dev/null || kill "$pid"; wait "$pid" 2>/dev/null || true
  if grep -q Traceback "gui-$label.log"; then cat "gui-$label.log" >&2; fail "traceback ($label)"; fi
  echo "app started ($label) and was still running after ${GUI_SECONDS} s"
}
gui_check offscreen env QT_QPA_PLATFORM=offscreen
if command -v xvfb-run >/dev/null 2>&1; then
  gui_check xcb xvfb-run -a env QT_QPA_PLATFORM=xcb
else
  echo "xvfb-run not installed: xcb start not tested"
fi

cd "$ROOT"
say "bundle: $(du -sh "$DIST" | cut -f1) in $(find "$DIST" -type f | wc -l) files ($DIST)"
echo "smoke test passed"
