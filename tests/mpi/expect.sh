#!/usr/bin/env bash
# expect.sh ok|fail REGEX CMD...   runs CMD; passes if its exit status is as
# expected (fail = non-zero) and its output matches REGEX. ctest's TIMEOUT
# turns a hang into a failure.
set -uo pipefail
want=$1 regex=$2
shift 2
out=$("$@" 2>&1)
rc=$?
echo "$out" | tail -n 40
echo "exit status: $rc"
if [ "$want" = ok ] && [ $rc -ne 0 ]; then echo "FAIL: expected success"; exit 1; fi
if [ "$want" = fail ] && [ $rc -eq 0 ]; then echo "FAIL: expected a non-zero exit"; exit 1; fi
if ! echo "$out" | grep -Eq -- "$regex"; then echo "FAIL: output does not match /$regex/"; exit 1; fi
echo "PASS"
