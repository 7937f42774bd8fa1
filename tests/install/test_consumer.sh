#!/usr/bin/env bash
# The CMake package from a user's side: installs the build into a scratch prefix, then configures
# examples/consumer against that prefix alone (find_package(gradproof CONFIG REQUIRED), links
# gradproof::gtest), builds it and runs its tests. The consumer includes only installed headers.
#   usage: test_consumer.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR CXX_COMPILER
set -euo pipefail
build=$1 src=$2 scratch=$3 cxx=$4
rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" > "$scratch/install.log"
for f in lib/cmake/gradproof/gradproofConfig.cmake lib/cmake/gradproof/gradproofConfigVersion.cmake \
  lib/cmake/gradproof/gradproofTargets.cmake include/gradproof/testing.hpp include/gradproof/gtest.hpp \
  include/gradproof/version.hpp; do
  test -f "$prefix/$f" || { echo "test_consumer: $f not installed"; exit 1; }
done
# The installed headers are light: none of them reaches into the source tree or a heavy library.
if grep -nE '#include *[<"](Eigen|boost|mpfr|mpfi|rapidcheck|core/|testing/)' "$prefix"/include/gradproof/*; then
  echo "test_consumer: an installed header includes a heavy or private header"; exit 1
fi
# Only the installed prefix: the source and build trees are not on any search path.
cmake -S "$src/examples/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" \
  > "$scratch/configure.log"
grep -q "gradproof_DIR:PATH=$prefix/lib/cmake/gradproof" "$scratch/build/CMakeCache.txt" \
  || { echo "test_consumer: gradproof was not found in the installed prefix"; grep gradproof_DIR "$scratch/build/CMakeCache.txt"; exit 1; }
cmake --build "$scratch/build" -j2 > "$scratch/build.log" || { tail -n 40 "$scratch/build.log"; exit 1; }
# A few cases per property keep this short; the catalog itself is tested in the build tree.
GRADPROOF_CASES=20 ctest --test-dir "$scratch/build" -j2 --output-on-failure | tee "$scratch/ctest.log"
grep -q "100% tests passed" "$scratch/ctest.log"
grep -q "consumer_kernel_f64.cross_entropy" "$scratch/ctest.log"
echo "test_consumer: examples/consumer built against the installed package and passed"
