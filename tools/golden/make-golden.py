#!/usr/bin/env python3
"""Writes a PyTorch golden case for hrmc's tests (tests/golden/micro): HRM-Text at the `micro` preset of
models/hrm_text.hrm, one packed PrefixLM batch, and what the PyTorch reference computes on it: logits,
per-token CE, the loss, every recurrent step's state, the gradients at credit windows K = 2 and 5,
and the parameters after one AdamATan2 step. The reference model is the team's port of the HRM-Text
code (hrm_ref.py); it is needed only to regenerate the case, never to build or test.

usage: tools/golden/make-golden.py OUT_DIR [--preset micro|tiny] [--ref DIR_WITH_hrm_ref.py]   (needs python3-torch, numpy)
"""
import argparse, hashlib, json, os, sys

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("out")
ap.add_argument("--preset", choices=["micro", "tiny"], default="micro")
ap.add_argument("--ref", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"),
                help="folder holding hrm_ref.py (default: the team's shared/bench)")
args = ap.parse_args()
sys.path.insert(0, args.ref)
try:
    import numpy as np
    import torch
    import hrm_ref as R
except ImportError as e:
    sys.exit(f"make-golden: {e}\nhint: install python3-torch and python3-numpy, and give --ref DIR holding hrm_ref.py")

torch.set_num_threads(1)  # one summation order
# The presets of models/hrm_text.hrm (keep them equal). `tiny` reproduces the team's original tiny case
# (shared/golden/tiny) bit for bit; hrmc's tests use `micro`, whose arrays stay small.
cfg = {"micro": R.tiny_config(hidden_size=64, num_heads=2), "tiny": R.tiny_config()}[args.preset]
INST, RESP, PAD = [7, 12, 5], [6, 4, 9], 4
BOQ, EOA = 256, 10  # byte-level samples: an instruction starts with token 256, a response ends in a newline

torch.manual_seed(0)
model = R.build_model(cfg)
gen = torch.Generator().manual_seed(1234)
draws = (torch.randint(0, 512, (sum(INST) + sum(RESP) - 2 * len(INST),), generator=gen) % 256).tolist()
seqs = []
for li, lo in zip(INST, RESP):
    inst, draws = [BOQ] + draws[:li - 1], draws[li - 1:]
    resp, draws = draws[:lo - 1] + [EOA], draws[lo - 1:]
    seqs.append(R.make_sequence(inst, resp))
T = sum(len(s[0]) for s in seqs) + PAD
np_batch, used = R.pack_rows(seqs, 1, T)
assert used == [0, 1, 2]
batch = R.to_torch_batch(np_batch, cfg.attn_type)

os.makedirs(args.out, exist_ok=True)
files = {}


def write(key, array, dtype, index=None):
    a = np.ascontiguousarray(np.asarray(array, dtype=dtype))
    name = f"{key}.{np.dtype(dtype).name}.bin"
    data = a.tobytes()
    with open(os.path.join(args.out, name), "wb") as f:
        f.write(data)
    entry = {"file": name, "dtype": np.dtype(dtype).name}
    if index is None:
        entry["shape"] = list(a.shape)
    else:
        entry.update(numel=int(a.size), index=index)
    entry.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    files[key] = entry


params = [(n, p) for n, p in model.named_parameters()]
param_order = [{"name": n, "shape": list(p.shape)} for n, p in params]


def write_named(key, tensors):
    """tensors: name -> tensor or None (no gradient); one file, indexed by name, in parameter order."""
    index, chunks, offset = [], [], 0
    for n, _ in params:
        t = tensors.get(n)
        if t is None:
            index.append({"name": n, "present": False, "offset": offset, "numel": 0})
            continue
        flat = t.detach().reshape(-1).numpy()
        index.append({"name": n, "present": True, "offset": offset, "numel": int(flat.size)})
        chunks.append(flat)
        offset += flat.size
    write(key, np.concatenate(chunks), np.float32, index)


write_named("params_init", dict(params))
zl = model.model.zL_init
write("zL_init", zl.float().numpy(), np.float32)
write("zL_init_bf16bits", zl.view(torch.int16).numpy().view(np.uint16), np.uint16)
for k in ("inputs", "labels", "position_ids"):
    write(k, np_batch[k][0], np.int32)
ref = R.flat_reference_tensors(np_batch, T)
for k in ("cu_seqlens", "prefix_lens", "causal_lens"):
    write(k, ref[k], np.int32)
write("attn_mask", batch["attn_mask"][0, 0].numpy(), np.uint8)

# Forward: logits, per-token CE, the loss and the recurrent states (the same for any K).
model.model.trace = []
with torch.no_grad():
    loss, _, logits = model(batch, bp_steps=2, return_logits=True)
trace, model.model.trace = model.model.trace, None
write("logits", logits[0].numpy(), np.float32)
labels = batch["labels"][0]
ce = torch.nn.functional.cross_entropy(logits[0], labels.clamp(min=0), reduction="none") * (labels != R.IGNORE_LABEL_ID)
write("token_ce", ce.numpy(), np.float32)
for name, z in trace:
    write(f"trace_{name}", z[0].numpy(), np.float32)

# Gradients at K = 2 and K = 5, then one AdamATan2 step at K = 5 from a fresh state.
losses = {}
for K in (2, 5):
    model.zero_grad(set_to_none=True)
    l, _ = model(batch, bp_steps=K)
    l.backward()
    losses[K] = float(l)
    write_named(f"grads_bp{K}", {n: p.grad for n, p in params})
optim = R.AdamATan2(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
R.set_lr(optim, 1e-3)  # as the trainer sets it: a tensor
optim.step()
write_named("params_after_adamatan2_step_bp5", dict(params))

tl = [len(s[0]) for s in seqs]
manifest = {
    "description": f"HRM-Text {args.preset} config golden case from hrm_ref.py (pure PyTorch fp32 CPU port), written by "
                   "tools/golden/make-golden.py. All binaries little-endian, row-major.",
    "torch_version": torch.__version__,
    "config": cfg.to_dict(),
    "seed_note": "torch.manual_seed(0) then build_model (init order: H layers, L layers, zL_init(bf16), embed_tokens, "
                 "lm_head); batch tokens: torch.Generator().manual_seed(1234), one randint(0, 512) % 256 draw split into "
                 "[256] + instruction bytes and response bytes + [10] per sample; one thread.",
    "batch": {"T": T, "inst_lens": INST, "resp_lens": RESP, "pad_slots": PAD,
              **{k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in ref.items()}},
    "conventions": [
        "dataset_new._load_batch: inputs = inst ++ resp[:-1]; labels = [-100]*(len(inst)-1) ++ resp; position_ids "
        "restart at 0 per sequence; pad slots: input 0, label -100, position 0.",
        "loss = sum CE over labels != -100 (CE in fp32) / count(labels != -100).",
        "grads_bpK: at K = 2 embed_tokens gets no gradient (present = false).",
        "trace_zL_k / trace_zH_i: module outputs in execution order (forward values identical for any K).",
        "zL_init is a bf16 buffer; zL_init.float32.bin holds its exact values widened to fp32.",
        "AdamATan2 step: fresh state, lr=1e-3, betas=(0.9,0.95), weight_decay=0.1 (p *= 1-lr*wd first), on grads_bp5.",
    ],
    "loss": losses[5],
    "loss_bp2": losses[2],
    "valid_label_count": int((labels != R.IGNORE_LABEL_ID).sum()),
    "param_order": param_order,
    "files": files,
}
with open(os.path.join(args.out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print(f"wrote {len(files)} arrays to {args.out}: loss {losses[5]:.6f}, T = {T}")
