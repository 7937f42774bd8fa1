#!/usr/bin/env bash
# The Debian package: builds it with cpack -G DEB from the build tree, installs it on this machine
# with dpkg -i, runs the installed /usr/bin/gradproof and `/usr/bin/python3 -m gradproof`, and
# removes it again (also on failure). Exit 77 (skipped) when it cannot do so without harm: not
# root, no dpkg, or a gradproof package or /usr/bin/gradproof already present.
#   usage: test_deb.sh BUILD_DIR SCRATCH_DIR
set -euo pipefail
build=$1 scratch=$2
if [[ $(id -u) -ne 0 ]] || ! command -v dpkg > /dev/null; then
  echo "test_deb: skipped (needs root and dpkg)"; exit 77
fi
if dpkg-query -W -f='${Status}' gradproof 2>/dev/null | grep -q "installed" || [[ -e /usr/bin/gradproof ]]; then
  echo "test_deb: skipped (gradproof is already installed on this machine; not touching it)"; exit 77
fi
rm -rf "$scratch"
mkdir -p "$scratch"
(cd "$scratch" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch" > cpack.log 2>&1) \
  || { tail -n 40 "$scratch/cpack.log"; exit 1; }
deb=$(ls "$scratch"/gradproof_*.deb)
dpkg-deb --info "$deb" | tee "$scratch/info.txt"
grep -q "Depends:.*python3-numpy" "$scratch/info.txt"
grep -q "Depends:.*libc6" "$scratch/info.txt"   # from dpkg-shlibdeps
dpkg-deb --contents "$deb" > "$scratch/contents.txt"
for f in ./usr/bin/gradproof ./usr/include/gradproof/plugin.h ./usr/lib/cmake/gradproof/gradproofConfig.cmake \
  ./usr/share/pkgconfig/gradproof-plugin.pc ./usr/lib/python3/dist-packages/gradproof/__init__.py \
  ./usr/share/gradproof/peers/numpy_peer.py; do
  grep -q " $f\$" "$scratch/contents.txt" || { echo "test_deb: $f missing from the package"; exit 1; }
done

trap 'dpkg --purge gradproof > "$scratch/remove.log" 2>&1 || true' EXIT
dpkg -i "$deb" > "$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; exit 1; }
version=$(/usr/bin/gradproof --version)
echo "$version"
[[ $version == "gradproof $(dpkg-deb -f "$deb" Version)" ]]
# The installed module, not a source tree's: run from an empty directory without PYTHONPATH.
(cd "$scratch" && env -u PYTHONPATH -u GRADPROOF_BINARY /usr/bin/python3 -m gradproof --help) > "$scratch/help.txt"
grep -q "check" "$scratch/help.txt"
(cd "$scratch" && env -u PYTHONPATH /usr/bin/python3 -c \
  'import gradproof, sys; sys.exit(0 if gradproof.__file__.startswith("/usr/lib/python3/dist-packages/") else 1)')
(cd "$scratch" && env -u PYTHONPATH -u GRADPROOF_BINARY /usr/bin/python3 -c \
  'import gradproof; print(gradproof.find_binary())') | tee "$scratch/binary.txt"
grep -qx "/usr/bin/gradproof" "$scratch/binary.txt"
echo '#include <gradproof/plugin.h>' | cc $(pkg-config --cflags gradproof-plugin) -std=c99 -fsyntax-only -x c -
dpkg --purge gradproof > "$scratch/remove.log" 2>&1
trap - EXIT
test ! -e /usr/bin/gradproof
echo "test_deb: $(basename "$deb") installed, ran and was removed"
