#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds the example C plug-in against the installed
# header alone (no source tree on the include path), then checks it with the installed binary:
# the published ABI header is self-contained and the installed tool runs.
#   usage: test_install.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR
set -euo pipefail
build=$1 src=$2 scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
test -f "$scratch/prefix/include/gradproof/plugin.h"
test -x "$scratch/prefix/bin/gradproof"
cc -std=c99 -Wall -Wextra -Werror -shared -fPIC -I"$scratch/prefix/include" \
  "$src/examples/plugins/correct_plugin.c" -o "$scratch/libplugin.so" -lm
"$scratch/prefix/bin/gradproof" check -q --cases 5 -p softmax_matches_the_reference \
  --plugin "$scratch/libplugin.so" | tee "$scratch/check.log"
grep -q "2 passed, 0 failed" "$scratch/check.log"
echo "test_install: header and binary installed, plug-in built against the installed header passes"
