#!/usr/bin/env bash
# Create .venv and install photoenhance into it, CPU torch first (the local 2.13.0 build).
# Usage: bash packaging/setup.sh [--test] [--system]
#   --test    also install the test tools and the system packages the tests use
#   --system  also apt-get the system libraries Qt needs (done by --test too)
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0 want_system=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1; want_system=1 ;;
    --system) want_system=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ "$want_system" = 1 ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  pkgs="libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 \
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
    libxcb-xkb1 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 xvfb xauth \
    libimage-exiftool-perl desktop-file-utils appstream"
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
