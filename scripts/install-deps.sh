#!/usr/bin/env bash
# Installs gradproof's build and test dependencies from Debian 12's archive when missing.
# Idempotent: does nothing (and touches no package list) when everything is installed.
set -euo pipefail

packages=(
  g++ cmake make
  librapidcheck-dev libeigen3-dev libboost-dev libmpfr-dev libgmp-dev libmpfi-dev
  libgtest-dev nlohmann-json3-dev libcli11-dev libfmt-dev libbenchmark-dev
  libkainjow-mustache-dev chromium
  # fuzzing (.ci/run, preset fuzz): clang with libFuzzer's runtime, llvm-symbolizer for reports
  clang-14 libclang-rt-14-dev llvm-14
  # third-party implementations checked by the suite (plug-in adapters and --exec adapters)
  libdnnl-dev ocl-icd-opencl-dev libtorch-dev python3-numpy python3-scipy python3-torch
  # the Python package's test suite (tests/python)
  python3-pytest
  # the package tests (tests/install): pkg-config for gradproof-plugin.pc, dpkg-shlibdeps for cpack -G DEB
  pkg-config dpkg-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
