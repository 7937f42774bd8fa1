#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds the example C plug-in against the installed
# header alone (no source tree on the include path; the flags from the installed pkg-config file),
# then checks it with the installed binary: the published ABI header is self-contained and the
# installed tool runs, with no path of the source or build tree in it.
#   usage: test_install.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR [sanitized]
# "sanitized" (the asan preset) skips the path check: ASan and UBSan keep every instrumented source
# file's path in the binary for their reports, outside the debug information.
set -euo pipefail
build=$1 src=$2 scratch=$3 sanitized=${4:-}
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
test -f "$scratch/prefix/include/gradproof/plugin.h"
test -x "$scratch/prefix/bin/gradproof"
"$scratch/prefix/bin/gradproof" --version | grep -qx "gradproof [0-9]*\.[0-9]*\.[0-9]*"
cflags=$(PKG_CONFIG_PATH="$scratch/prefix/share/pkgconfig" pkg-config --cflags gradproof-plugin)
[[ $cflags == *"$scratch/prefix/share/pkgconfig/../../include"* ]]
cc -std=c99 -Wall -Wextra -Werror -shared -fPIC $cflags \
  "$src/examples/plugins/correct_plugin.c" -o "$scratch/libplugin.so" -lm
"$scratch/prefix/bin/gradproof" check -q --cases 5 -p softmax_matches_the_reference \
  --plugin "$scratch/libplugin.so" | tee "$scratch/check.log"
grep -q "2 passed, 0 failed" "$scratch/check.log"
# Installed binaries carry no path into the source or build tree outside their debug information
# (the bench peers are found relative to bin/, __FILE__ is relative, the RPATH is $ORIGIN/../lib).
test -f "$scratch/prefix/share/gradproof/peers/numpy_peer.py" -a -f "$scratch/prefix/share/gradproof/peers/seed_numpy.py"
if [[ $sanitized == sanitized ]]; then
  echo "test_install: sanitized build, source paths in the binaries not checked"
  exit 0
fi
for f in "$scratch/prefix/bin/gradproof" "$scratch"/prefix/lib/*.so; do
  [[ -e $f ]] || continue
  objcopy --strip-debug "$f" "$scratch/stripped"
  if grep -q "$src" "$scratch/stripped"; then
    echo "test_install: $f contains the path $src:"; strings "$scratch/stripped" | grep "$src"; exit 1
  fi
done
echo "test_install: header and binary installed, plug-in built against the installed header passes"
