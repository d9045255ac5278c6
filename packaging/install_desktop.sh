#!/usr/bin/env bash
# Register photoenhance with the desktop: menu entry, icons and AppStream metadata.
#
# Usage: bash packaging/install_desktop.sh [--exec PATH] [--prefix DIR] [--uninstall]
#   --exec PATH  the photoenhance executable the menu entry runs (default: 'photoenhance' on
#                PATH, as after pip install; give dist/photoenhance/photoenhance for the bundle)
#   --prefix DIR data folder to install into (default: $XDG_DATA_HOME or ~/.local/share;
#                /usr/local/share for all users)
#   --uninstall  remove what an earlier run installed under that prefix
# The files come from the resources/ folder next to this script's folder (a source checkout,
# or an unpacked sdist).
set -euo pipefail
RES=$(cd "$(dirname "$0")/../resources" && pwd)
prefix=${XDG_DATA_HOME:-$HOME/.local/share}
exec_path="" uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --exec) exec_path=$(realpath "$2"); shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    *) echo "install_desktop.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
SIZES="16 32 48 64 128 256 512"
desktop=$prefix/applications/photoenhance.desktop
metainfo=$prefix/metainfo/io.github.photoenhance.metainfo.xml
icon_paths() {
  for s in $SIZES; do echo "$prefix/icons/hicolor/${s}x${s}/apps/photoenhance.png"; done
  echo "$prefix/icons/hicolor/scalable/apps/photoenhance.svg"
}
if [ "$uninstall" = 1 ]; then
  rm -f "$desktop" "$metainfo" $(icon_paths)
else
  install -Dm644 "$RES/photoenhance.desktop" "$desktop"
  if [ -n "$exec_path" ]; then
    [ -x "$exec_path" ] || { echo "install_desktop.sh: $exec_path is not executable" >&2; exit 2; }
    # Exec quoting (desktop entry spec): escape \ " ` $ inside the quotes, double every
    # backslash for the string escaping and every %; then escape & and | for sed.
    q=$(printf '%s' "$exec_path" | sed -e 's/[\\"`$]/\\\\&/g' -e 's/%/%%/g' -e 's/[&|]/\\&/g')
    t=$(printf '%s' "$exec_path" | sed -e 's/\\/\\\\/g' -e 's/[&|]/\\&/g')
    sed -i -e "s|^Exec=photoenhance |Exec=\"$q\" |" -e "s|^TryExec=.*|TryExec=$t|" "$desktop"
  fi
  for s in $SIZES; do
    install -Dm644 "$RES/icons/photoenhance-$s.png" \
      "$prefix/icons/hicolor/${s}x${s}/apps/photoenhance.png"
  done
  install -Dm644 "$RES/icons/photoenhance.svg" "$prefix/icons/hicolor/scalable/apps/photoenhance.svg"
  install -Dm644 "$RES/io.github.photoenhance.metainfo.xml" "$metainfo"
fi
# Refresh the caches when the tools are there; harmless when they are not.
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$prefix/applications" 2>/dev/null || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$prefix/icons/hicolor/index.theme" ]; then
  gtk-update-icon-cache -q -t "$prefix/icons/hicolor" 2>/dev/null || true
fi
echo "photoenhance desktop files $([ "$uninstall" = 1 ] && echo removed from || echo installed in) $prefix"
