#!/usr/bin/env bash
# Rewrites tests/compiler/fused_tiny_k2.check: the kernels of the tiny HRM-Text's train step at K = 2
# (`hrmc inspect --emit=fused`), one FileCheck line per output line, so that a change to the partition
# or the fused kernels shows up as a diff in review (like tinygrad's process replay).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tests/compiler/fused_tiny_k2.check
"$root/build/tools/hrmc/hrmc" inspect "$root/models/hrm_text.hrm" --preset tiny -K 2 --emit=fused --no-locations |
  python3 -c '
import re, sys
root = sys.argv[1]
print("// Golden of `hrmc inspect models/hrm_text.hrm --preset tiny -K 2 --emit=fused --no-locations`;")
print("// rewrite it with tools/update-fused-golden.sh and review the diff.")
first = True
for line in sys.stdin.read().splitlines():
    line = line.replace(root + "/", "")
    # FileCheck syntax in the text: [[ starts a variable, {{ a regex.
    line = re.sub(r"(\{\{|\}\}|\[\[|\]\])", lambda m: "{{" + re.escape(m.group(1)) + "}}", line)
    # Source paths print as given on the command line: match any prefix.
    line = re.sub(r"(?<![\w/])(stdlib|models)/", r"{{.*}}\1/", line)
    if not line.strip():
        print("// CHECK-EMPTY:"); continue
    print(("// CHECK: " if first else "// CHECK-NEXT: ") + line)
    first = False
' "$root" > "$out"
echo "wrote $out ($(wc -l < "$out") lines)"
