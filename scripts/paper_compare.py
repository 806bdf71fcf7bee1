#!/usr/bin/env python3
"""The paper's comparisons from one GPU call's results: bt bench runs beside Hugging Face generate() runs.

Reads bt bench's JSON lines (`bt bench --format json`, one object per run) and scripts/hf_compare.py's JSON lines,
and prints, per scenario (prompt and new lengths):

  * block / vanilla, both in this engine, each at its largest batch (the paper's own comparison);
  * this engine's block model over HF's dynamic-cache vanilla at HF's largest batch (the paper's 10-20x claim);
  * this engine's vanilla over HF's static cache + torch.compile at the same batch (how fast our vanilla is).

    python3 scripts/paper_compare.py --bt bt.jsonl --hf hf.jsonl [--vanilla vanilla-410m --block block-b4-1.2b
        --hf-shape pythia-410m]
"""
import argparse
import json
import sys


def lines(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def best(runs):
    return max(runs, key=lambda r: r["tokens_per_s"]) if runs else None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bt", required=True)
    p.add_argument("--hf", required=True)
    p.add_argument("--vanilla", default="vanilla-410m")
    p.add_argument("--block", default="block-b4-1.2b")
    p.add_argument("--hf-shape", default="pythia-410m")
    a = p.parse_args()
    bt = [r for r in lines(a.bt) if "model" in r]
    hf = [r for r in lines(a.hf) if r.get("shape") == a.hf_shape]
    scenarios = sorted({(r["prompt_len"], r["new_tokens"]) for r in bt})
    print(f"{'scenario':>12} | {'comparison':<58} | {'ours tok/s':>11} | {'theirs tok/s':>12} | {'ratio':>6}")
    for prompt, new in scenarios:
        ours = [r for r in bt if r["prompt_len"] == prompt and r["new_tokens"] == new]
        van = best([r for r in ours if r["model"] == a.vanilla])
        blk = best([r for r in ours if r["model"] == a.block])
        theirs = [r for r in hf if r["prompt_len"] == prompt and r["new_tokens"] == new]
        dyn = best([r for r in theirs if r["cache"] == "dynamic"])
        stat = [r for r in theirs if r["cache"] == "static-compile"]
        name = f"{prompt}:{new}"
        rows = []
        if van and blk:
            rows.append((f"{a.block} (b{blk['batch_size']}) / {a.vanilla} (b{van['batch_size']}), this engine",
                         blk["tokens_per_s"], van["tokens_per_s"]))
        if blk and dyn:
            rows.append((f"{a.block} here (b{blk['batch_size']}) / HF dynamic (b{dyn['batch_size']})",
                         blk["tokens_per_s"], dyn["tokens_per_s"]))
        if van:
            for s in stat:
                same = [r for r in ours if r["model"] == a.vanilla and r["batch_size"] == s["batch_size"]]
                if same:
                    rows.append((f"{a.vanilla} here / HF static+compile, batch {s['batch_size']}",
                                 same[0]["tokens_per_s"], s["tokens_per_s"]))
        for label, x, y in rows:
            print(f"{name:>12} | {label:<58} | {x:11.1f} | {y:12.1f} | {x / y:5.2f}x")
    cards = {r.get("card") for r in hf} | {r.get("device") for r in bt}
    print("devices:", "; ".join(sorted(c for c in cards if c)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
