"""Critic throughput: frames/s of the full critique (no CLIP) at 512x288 and 1280x720, against decoding
the same frames from an H.264 file (ffmpeg, measured in the same run: the work any critic of a video
file must do first), and CLIP batched vs one frame at a time on a random-weight CLIP of ViT-B/32 size
(built from config; no download).

Goal: the full pixel critique costs at most GOAL_RATIO times the decode of the same frames.

    .venv/bin/python bench/critic.py [--threads N] [--no-clip]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._goals import done, goal  # noqa: E402
from tools.critique import CriticSettings, critique_frames  # noqa: E402
from tools.edit.video_io import read_video, write_video  # noqa: E402

GOAL_RATIO = 3.0


def clip_frames(w: int, h: int, n: int, seed: int = 0) -> np.ndarray:
    """A textured pan, like tests/test_critique.py, at any size."""
    rng = np.random.default_rng(seed)
    cw, ch = w * 2, h * 2
    img = np.zeros((ch, cw, 3), np.float32)
    for scale, amp in ((64, 90), (16, 50), (4, 25), (2, 12)):
        small = rng.normal(0, 1, (ch // scale + 2, cw // scale + 2, 3)).astype(np.float32)
        img += amp * cv2.resize(small, (cw, ch), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + 120, 0, 255).astype(np.uint8)
    step = w / 2 / n
    return np.stack([img[h // 2: h // 2 + h, int(i * step): int(i * step) + w] for i in range(n)])


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_pixels(w: int, h: int, n: int = 96, repeats: int = 3) -> None:
    frames = clip_frames(w, h, n)
    settings = CriticSettings(clip_model="/nonexistent/clip")   # pixel metrics only
    shot = {"camera": "pan_right"}
    critique_frames(frames[:8], 24, shot=shot, settings=settings)
    with tempfile.TemporaryDirectory() as d:
        clip = Path(d) / "clip.mp4"
        write_video(frames, 24, clip, crf=18, preset="ultrafast")
        decode_s = best_of(lambda: read_video(clip), repeats)
    result = {}
    critique_s = best_of(lambda: result.setdefault("c", critique_frames(frames, 24, shot=shot, settings=settings)), repeats)
    print(f"full critique, no CLIP, {w}x{h}, {n} frames: {critique_s * 1000:.0f} ms = {n / critique_s:.0f} frames/s "
          f"(verdict {result['c'].verdict}); decoding them alone: {n / decode_s:.0f} frames/s")
    goal(f"critique / decode at {w}x{h}", critique_s / decode_s, GOAL_RATIO,
         baseline=f"ffmpeg decode of the same {n} frames {decode_s * 1000:.0f} ms, same run")


def bench_clip(n: int = 16) -> None:
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    from tools.critique.clip_score import clip_score, cpu_has_bf16

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    with tempfile.TemporaryDirectory() as d:
        torch.manual_seed(0)
        config = CLIPConfig(
            text_config=dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                             num_attention_heads=8, max_position_embeddings=77, bos_token_id=0, eos_token_id=1),
            vision_config=dict(image_size=224, patch_size=32, hidden_size=768, intermediate_size=3072,
                               num_hidden_layers=12, num_attention_heads=12),
            projection_dim=512,
        )
        CLIPModel(config).save_pretrained(d)
        CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77).save_pretrained(d)
        frames = clip_frames(512, 288, n)
        prompt = "a small fishing boat leaving the harbour at dawn"
        s = CriticSettings(clip_model=d, clip_max_frames=n, clip_batch_size=n)
        clip_score(frames[:2], prompt, s)                 # load once, warm up
        timings = {}
        for label, batch in (("batched", n), ("one at a time", 1)):
            t = time.perf_counter()
            clip_score(frames, prompt, s, batch_size=batch)
            timings[label] = time.perf_counter() - t
            print(f"CLIP ViT-B/32-size, {n} frames, {label}: {timings[label] * 1000:.0f} ms "
                  f"({n / timings[label]:.1f} frames/s)")
        print(f"CLIP batched is {timings['one at a time'] / timings['batched']:.2f}x faster than one at a time "
              f"(dtype {'bfloat16' if cpu_has_bf16() else 'float32'}, {torch.get_num_threads()} threads)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None, help="torch threads for CLIP (default: torch's)")
    ap.add_argument("--no-clip", action="store_true")
    args = ap.parse_args()
    bench_pixels(512, 288)
    bench_pixels(1280, 720)
    if not args.no_clip:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        bench_clip()
    done()


if __name__ == "__main__":
    main()
