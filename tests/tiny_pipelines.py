"""Tiny random-weight diffusers pipelines, built in code (no hub access), shared by the tests.

The components follow diffusers' own fast tests (tests/pipelines/<model>/), with tokenizers built in
code. `TinyModels` saves each one to a folder once per test session (save_pretrained), so a test can
find it the way a user's model is found: through DIRECTOR_DIFFUSERS_MODEL_PATHS.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

WORDS = ["a", "the", "cat", "dog", "boat", "small", "fishing", "harbour", "stone", "dawn", "leaving", "calm", "misty", "light", "soft", "sea", "sky", "red", "blue", "cinematic", "film", "wide", "shot", "dolly", "in", "slow"]


# ---- tiny components (sizes as in diffusers' fast tests) ----------------------------------------------
def t5_text():
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("\u2581" + w, -1.0 - i * 0.01) for i, w in enumerate(WORDS)]
    pieces += [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz,."] + [("\u2581", -6.0)]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(pieces), d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4,
                      relative_attention_num_buckets=8)
    return tokenizer, T5EncoderModel(config)


def clip_text():
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for c in "abcdefghijklmnopqrstuvwxyz,.":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    # model_max_length: Stable-Diffusion-style pipelines pad to it
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    torch.manual_seed(0)
    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
                            layer_norm_eps=1e-5, num_attention_heads=4, num_hidden_layers=2, vocab_size=len(vocab))
    return tokenizer, CLIPTextModel(config)


def tiny_ltx():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False), decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = vae.use_framewise_decoding = False
    tokenizer, text_encoder = t5_text()
    return LTXPipeline(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
                       text_encoder=text_encoder, tokenizer=tokenizer)


def tiny_wan():
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    tokenizer, text_encoder = t5_text()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32)
    return WanPipeline(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                       text_encoder=text_encoder, tokenizer=tokenizer)


def tiny_cogvideox_v2v():
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXTransformer3DModel,
        CogVideoXVideoToVideoPipeline,
        DDIMScheduler,
    )

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    tokenizer, text_encoder = t5_text()
    return CogVideoXVideoToVideoPipeline(transformer=transformer, vae=vae, scheduler=DDIMScheduler(),
                                         text_encoder=text_encoder, tokenizer=tokenizer)


def tiny_animatediff():
    from diffusers import (
        AnimateDiffPipeline,
        AutoencoderKL,
        DDIMScheduler,
        MotionAdapter,
        UNet2DConditionModel,
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4)
    tokenizer, text_encoder = clip_text()
    torch.manual_seed(0)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=2, motion_norm_num_groups=2,
                            motion_num_attention_heads=4)
    return AnimateDiffPipeline(unet=unet, scheduler=scheduler, vae=vae, motion_adapter=adapter,
                               text_encoder=text_encoder, tokenizer=tokenizer, feature_extractor=None,
                               image_encoder=None)


def tiny_svd():
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32,
        num_frames=4)   # frames per call (the real img2vid says 14, -xt 25); few keep tests quick
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", trained_betas=None, use_karras_sigmas=True)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D"] * 2, latent_channels=4)
    torch.manual_seed(0)
    # SVD resizes a PIL image to 224 before the vision tower, so the tiny tower takes 224
    config = CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4,
                              image_size=224, intermediate_size=37, patch_size=32)
    return StableVideoDiffusionPipeline(unet=unet, image_encoder=CLIPVisionModelWithProjection(config),
                                        scheduler=scheduler, vae=vae,
                                        feature_extractor=CLIPImageProcessorPil(crop_size=224, size=224))


def tiny_wan_i2v():
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    tokenizer, text_encoder = t5_text()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=4)
    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1))
    return WanImageToVideoPipeline(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                                   text_encoder=text_encoder, tokenizer=tokenizer, image_encoder=encoder,
                                   image_processor=CLIPImageProcessorPil(crop_size=32, size=32))


def tiny_cogvideox_i2v():
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
        DDIMScheduler,
    )

    torch.manual_seed(0)
    # rotary embeddings need attention_head_dim a multiple of 16; learned position embeddings fix the
    # size (sample_* x 8 = 16 px) and the frame count (9)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    tokenizer, text_encoder = t5_text()
    return CogVideoXImageToVideoPipeline(transformer=transformer, vae=vae, scheduler=DDIMScheduler(),
                                         text_encoder=text_encoder, tokenizer=tokenizer)


# name -> (builder, the model id a test gives it, the modes it serves)
BUILDERS = {
    "ltx": (tiny_ltx, "tiny/ltx-video", ("t2v", "i2v")),
    "wan": (tiny_wan, "tiny/wan-t2v", ("t2v", "v2v")),
    "wan_i2v": (tiny_wan_i2v, "tiny/wan-i2v", ("i2v",)),
    "cogvideox": (tiny_cogvideox_v2v, "tiny/cogvideox", ("t2v", "v2v")),
    "cogvideox_i2v": (tiny_cogvideox_i2v, "tiny/cogvideox-i2v", ("i2v",)),
    "animatediff": (tiny_animatediff, "tiny/animatediff", ("t2v", "v2v")),
    "svd": (tiny_svd, "tiny/svd", ("i2v",)),
}


class TinyModels:
    """Each tiny pipeline built and saved to a folder at most once per session."""

    def __init__(self, root: Path):
        self.root = root
        self.folders: dict[str, Path] = {}

    def folder(self, name: str) -> Path:
        if name not in self.folders:
            build, _, _ = BUILDERS[name]
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                folder = self.root / name
                build().save_pretrained(folder)
            finally:
                torch.set_num_threads(before)
            self.folders[name] = folder
        return self.folders[name]

    def env(self, monkeypatch, mode_models: dict[str, str], steps: int = 2) -> None:
        """Point the diffusers backend at saved tiny models: {"t2v": "ltx", "i2v": "svd", ...}."""
        paths = {BUILDERS[name][1]: str(self.folder(name)) for name in set(mode_models.values())}
        monkeypatch.setenv("DIRECTOR_DIFFUSERS_MODEL_PATHS", json.dumps(paths))
        for mode, name in mode_models.items():
            monkeypatch.setenv(f"DIRECTOR_DIFFUSERS_DEFAULT_{mode.upper()}", BUILDERS[name][1])
        monkeypatch.setenv("DIRECTOR_DIFFUSERS_STEPS", str(steps))
        # the process's backend instance read its settings when it was made: make the next one afresh
        from tools.generate import base

        monkeypatch.delitem(base._instances, "diffusers", raising=False)
