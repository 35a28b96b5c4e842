#!/usr/bin/env bash
# expect.sh RC [--stdout|--stderr PATTERN]... -- COMMAND...
# Runs COMMAND, checks its exit status and that each extended-regex PATTERN appears in its output.
set -u
want_rc=$1; shift
checks=()
while [ "$1" != "--" ]; do checks+=("$1" "$2"); shift 2; done
shift
out=$(mktemp); err=$(mktemp)
"$@" >"$out" 2>"$err"
rc=$?
fail=0
if [ "$rc" != "$want_rc" ]; then echo "exit status $rc, expected $want_rc"; fail=1; fi
for ((i = 0; i < ${#checks[@]}; i += 2)); do
  stream=${checks[i]}; pattern=${checks[i+1]}
  file=$out; [ "$stream" = "--stderr" ] && file=$err
  grep -Eq -- "$pattern" "$file" || { echo "missing in ${stream#--}: $pattern"; fail=1; }
done
if [ $fail -ne 0 ]; then echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; fi
rm -f "$out" "$err"
exit $fail
