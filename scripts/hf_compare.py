#!/usr/bin/env python3
"""Hugging Face transformers' generate() on the paper's model shapes, for the side-by-side with `bt bench`.

Random-weight GPT-NeoX models of the Pythia shapes (no download; the GPU machine has no network), bf16, greedy,
every sequence generating exactly --new-tokens (min_new_tokens = max_new_tokens, so random weights never stop at
EOS). Throughput is generated tokens over the wall time of the whole generate() call, prefill included, as the
paper and `bt bench` count it. Caches:

  dynamic          generate()'s default cache: the paper's baseline
  static-compile   a static cache and torch.compile of the forward (the fastest HF setting we know), timed on a
                   second call after a compiling warm-up

--batch-sizes takes numbers and "max": the largest batch whose full-length run leaves at least 2 GiB of the GPU
free, found by binary search as the reference code does (each probe allocates a static cache of the full length and
runs the prompt's prefill and one decode step, which is the run's peak).

    python3 scripts/hf_compare.py --shapes pythia-410m --prompt-len 128 --new-tokens 1920 \\
        --batch-sizes 1,256,max --caches dynamic,static-compile --out hf.jsonl

One JSON object per run on stdout (and appended to --out).
"""
import argparse
import json
import sys
import time

SHAPES = {
    # hidden, layers, heads, intermediate (GPT-NeoX / Pythia)
    "pythia-70m": (512, 6, 8, 2048),
    "pythia-160m": (768, 12, 12, 3072),
    "pythia-410m": (1024, 24, 16, 4096),
}
VOCAB = 50304
FREE_RESERVE = 2 << 30


def model_of(torch, transformers, shape, max_positions):
    hidden, layers, heads, inter = SHAPES[shape]
    config = transformers.GPTNeoXConfig(
        vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=inter, rotary_pct=0.25, rotary_emb_base=10000, max_position_embeddings=max_positions,
        use_parallel_residual=True, tie_word_embeddings=False, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = transformers.GPTNeoXForCausalLM(config).to(torch.bfloat16)
    model.eval()
    model.generation_config.pad_token_id = 0
    return model


def prompts(torch, batch, length):
    g = torch.Generator(device="cpu").manual_seed(1)
    ids = torch.randint(1, VOCAB, (batch, length), generator=g)
    return ids.cuda(), torch.ones_like(ids).cuda()


def generate(torch, model, batch, prompt_len, new_tokens, cache):
    ids, mask = prompts(torch, batch, prompt_len)
    kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, attention_mask=mask)
    if cache == "static-compile":
        kwargs["cache_implementation"] = "static"
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(ids, **kwargs)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    generated = (out.shape[1] - prompt_len) * batch
    return generated, seconds


def fits(torch, transformers, model, batch, prompt_len, new_tokens):
    """Whether a full-length run of `batch` sequences leaves FREE_RESERVE of the GPU free."""
    try:
        cache = transformers.StaticCache(config=model.config, max_batch_size=batch,
                                         max_cache_len=prompt_len + new_tokens, device="cuda",
                                         dtype=torch.bfloat16)
        ids, mask = prompts(torch, batch, prompt_len)
        with torch.inference_mode():
            out = model(input_ids=ids, past_key_values=cache, use_cache=True)
            nxt = out.logits[:, -1:].argmax(-1)
            del out
            model(input_ids=nxt, past_key_values=cache, use_cache=True,
                  cache_position=torch.tensor([prompt_len], device="cuda"))
        torch.cuda.synchronize()
        free, _ = torch.cuda.mem_get_info()
        ok = free >= FREE_RESERVE
    except torch.cuda.OutOfMemoryError:
        ok = False
    finally:
        cache = None
        torch.cuda.empty_cache()
    return ok


def largest_batch(torch, transformers, model, prompt_len, new_tokens, limit=8192):
    lo, hi = 0, 1
    while hi <= limit and fits(torch, transformers, model, hi, prompt_len, new_tokens):
        lo, hi = hi, hi * 2
    hi = min(hi, limit + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(torch, transformers, model, mid, prompt_len, new_tokens):
            lo = mid
        else:
            hi = mid
    return lo


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", default="pythia-410m", help="comma-separated: " + ", ".join(SHAPES))
    p.add_argument("--prompt-len", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=512)
    p.add_argument("--batch-sizes", default="1,256", help="numbers and 'max'")
    p.add_argument("--caches", default="dynamic,static-compile")
    p.add_argument("--out", help="append the JSON lines to this file too")
    a = p.parse_args()
    import torch
    import transformers
    if not torch.cuda.is_available():
        print("hf_compare: no CUDA device", file=sys.stderr)
        return 2
    card = torch.cuda.get_device_name(0)
    for shape in a.shapes.split(","):
        if shape not in SHAPES:
            print(f"hf_compare: unknown shape '{shape}' (known: {', '.join(SHAPES)})", file=sys.stderr)
            return 2
        model = model_of(torch, transformers, shape, max(2048, a.prompt_len + a.new_tokens))
        sizes = []
        for b in a.batch_sizes.split(","):
            if b == "max":
                found = largest_batch(torch, transformers, model, a.prompt_len, a.new_tokens)
                print(f"hf_compare: {shape} largest batch leaving 2 GiB free: {found}", file=sys.stderr)
                sizes.append(("max", found))
            else:
                sizes.append((b, int(b)))
        for cache in a.caches.split(","):
            if cache == "static-compile":
                model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
            for label, batch in sizes:
                if batch < 1:
                    continue
                if cache == "static-compile":
                    generate(torch, model, batch, a.prompt_len, min(a.new_tokens, 16), cache)  # compile, capture
                tokens, seconds = generate(torch, model, batch, a.prompt_len, a.new_tokens, cache)
                row = {"engine": "hf-transformers " + transformers.__version__, "card": card, "shape": shape,
                       "cache": cache, "dtype": "bf16", "prompt_len": a.prompt_len, "new_tokens": a.new_tokens,
                       "batch_size": batch, "batch_label": label, "generated_tokens": tokens,
                       "seconds": round(seconds, 4), "tokens_per_s": round(tokens / seconds, 2)}
                print(json.dumps(row), flush=True)
                if a.out:
                    with open(a.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
        del model
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
