#!/usr/bin/env bash
# hrmc's CPU backend against the PyTorch eager baseline (the team's shared/bench/run-torch-baseline) on the same
# packed batch, alternating the two ROUNDS times so that both see the same machine: prints each
# round's tokens/s and ratio, then the median ratio per mode. PRECISION=bf16 in the environment runs
# both in bf16 (hrmc --precision bf16, PyTorch under torch.autocast on oneDNN); fp32 by default.
# usage: [PRECISION=fp32|bf16] tools/bench-vs-torch.sh {tiny|small} [ROUNDS=3] [BASELINE=../shared/bench/run-torch-baseline]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n 7p "$0"; exit 2; }
cfg=$1; rounds=${2:-3}
precision=${PRECISION:-fp32}
case $precision in fp32|bf16) ;; *) echo "error: PRECISION must be fp32 or bf16, not '$precision'" >&2; exit 2 ;; esac
export PRECISION=$precision
baseline=${3:-$root/../shared/bench/run-torch-baseline}
hrmc=$root/build/tools/hrmc/hrmc
[ -x "$hrmc" ] || { echo "error: $hrmc is not built (run tools/build.sh)" >&2; exit 1; }
[ -x "$baseline" ] || { echo "error: the PyTorch baseline $baseline is absent or not executable; give its path as the third argument (the comparison is optional: hrmc bench runs without it)" >&2; exit 1; }
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: hrmc" >&2
  "$hrmc" bench "$root/models/hrm_text.hrm" --preset "$cfg" --steps 5 --precision "$precision" --json > "$log/hrmc.$r"
  echo "round $r/$rounds: PyTorch" >&2
  "$baseline" "$cfg" 32 256 2 5 | sed -n 's/^JSON //p' > "$log/torch.$r"
done
python3 - "$log" "$rounds" <<'EOF'
import json, statistics, sys
log, rounds = sys.argv[1], int(sys.argv[2])
modes = [("train_k2", "train2"), ("train_k5", "train5"), ("forward", "fwd")]
ratios = {m: [] for m, _ in modes}
bf16 = json.load(open(f"{log}/hrmc.1"))["precision"] == "bf16"
roof = "bf16_gemm_roof_gflops" if bf16 else "sgemm_roof_gflops"
print(f"precision {'bf16' if bf16 else 'fp32'}; roofs are the {'bf16 GEMM' if bf16 else 'sgemm'} roofs each measured in its own run")
print(f"{'round':>5} {'mode':>9} {'hrmc tok/s':>11} {'torch tok/s':>12} {'ratio':>6} "
      f"{'hrmc GFLOP/s':>13} {'torch GFLOP/s':>14} {'roof (hrmc, torch)':>19}")
for r in range(1, rounds + 1):
    hj, tj = json.load(open(f"{log}/hrmc.{r}")), json.load(open(f"{log}/torch.{r}"))
    h, t = hj["results"], tj["results"]
    for m, tm in modes:
        a, b = h[m]["tokens_per_s"], t[tm]["slot_tok_s"]
        ratios[m].append(a / b)
        print(f"{r:>5} {m:>9} {a:>11.0f} {b:>12.0f} {a / b:>5.2f}x {h[m]['model_gflops']:>13.1f} "
              f"{t[tm]['gflops']:>14.1f} {hj[roof]:>9.0f}, {tj[roof]:.0f}")
print("median ratio: " + ", ".join(f"{m} {statistics.median(v):.2f}x" for m, v in ratios.items()))
EOF
