#!/usr/bin/env bash
# Runs `gradproof check` on a third-party implementation and passes when gradproof runs to
# completion: exit 0 (all properties pass) or 1 (a property fails). A property failure of a library
# we do not own is a finding to report, not a defect of gradproof; exit 2 (usage or load error), any
# other status or a signal means gradproof itself could not check the library, and fails the test.
# The terminal report is printed either way so the findings end up in the ctest log.
#   usage: run_third_party_check.sh GRADPROOF_BINARY [check arguments...]
set -uo pipefail
bin=$1
shift

"$bin" check "$@"
status=$?
case $status in
  0) echo "run_third_party_check: all properties pass" ;;
  1) echo "run_third_party_check: gradproof completed; property failures above are findings about the library" ;;
  *) echo "run_third_party_check: FAIL: gradproof exited with status $status" >&2
     exit 1 ;;
esac
exit 0
