#!/usr/bin/env bash
# Rewrites the goldens of the tiny HRM-Text's train step at K = 2, one FileCheck line per output line,
# so that a change to the partition, the fused kernels or the generated CUDA C shows up as a diff in
# review (like tinygrad's process replay):
#   tests/compiler/fused_tiny_k2.check  `hrmc inspect --emit=fused` (the launches and fused kernels)
#   tests/compiler/cuda_tiny_k2.check   `hrmc inspect --target cuda --emit=cuda` (the CUDA C)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# golden OUT ARGS...: hrmc inspect models/hrm_text.hrm --preset tiny -K 2 ARGS, as FileCheck lines in OUT.
golden() {
  local out=$root/tests/compiler/$1; shift
  "$root/build/tools/hrmc/hrmc" inspect "$root/models/hrm_text.hrm" --preset tiny -K 2 "$@" |
    python3 -c '
import re, sys
root, args = sys.argv[1], sys.argv[2]
print("// Golden of `hrmc inspect models/hrm_text.hrm --preset tiny -K 2 " + args + "`;")
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
' "$root" "$*" > "$out"
  echo "wrote $out ($(wc -l < "$out") lines)"
}

golden fused_tiny_k2.check --emit=fused --no-locations
golden cuda_tiny_k2.check --target cuda --emit=cuda
