"""Denoising autoencoder: reconstruct the clean image from a corrupted copy of it.

Vincent, Larochelle, Bengio & Manzagol, "Extracting and Composing Robust Features with Denoising
Autoencoders", ICML 2008 (masking noise: a random fraction of the inputs set to zero); Vincent et al.,
JMLR 2010 (stacked, with additive Gaussian and salt-and-pepper noise). Géron's notebook uses Gaussian
noise and dropout on the inputs; the DeepLearning@Home blog series trains tied, all-sigmoid networks
with a noise flag that, in its code, never corrupted anything (see configs/dae_*.yaml).

The corruption is drawn from torch's global generator (`torch.rand_like`, `torch.randn_like`), so a
run is reproducible under `seed_everything`. The loss always compares the reconstruction with the
clean input.
"""

from __future__ import annotations

from typing import Literal

import torch
from jsonargparse.typing import NonNegativeFloat
from torch import Tensor

from lightning_ae import figures
from lightning_ae.models.autoencoder import Autoencoder
from lightning_ae.errors import ConfigError

Noise = Literal["gaussian", "masking", "salt_pepper", "none"]
FRACTION_NOISES = ("masking", "salt_pepper")
EVAL_ARGS = ("eval_noise", "eval_noise_kind", "eval_noise_level")
FIGURE_SEED = 0  # the noisy row of the figure is the same every epoch


class DenoisingAutoencoder(Autoencoder):
    """An `Autoencoder` trained on corrupted inputs to give back the clean ones.

    Args:
        noise: gaussian (x + noise_level * N(0, 1)), masking (each pixel set to 0 with probability
            noise_level), salt_pepper (each pixel, with probability noise_level, set to 0 or 1 with equal
            chance) or none (a plain autoencoder; noise_level is ignored).
        noise_level: the standard deviation for gaussian; the expected fraction of corrupted pixels for
            masking and salt_pepper (then at most 1).
        clip: clip Gaussian-corrupted inputs to [0, 1] (other noises stay in [0, 1] anyway).
        rescale: masking only: multiply the surviving pixels by 1 / (1 - noise_level), as inverted
            dropout does (Géron's notebook), so the expected input is unchanged. Default false: the
            classic zero-masking of Vincent et al., survivors keep their values.
        eval_noise: corrupt the inputs in validation and test too, to measure how well the network
            cleans noisy test images (the target is still the clean image). Default false: validation
            and test see clean inputs.
        eval_noise_kind: the corruption of validation/test inputs when eval_noise is on (default: `noise`),
            so a network trained without noise can be scored on the same noisy test images.
        eval_noise_level: its level (default: `noise_level`).
        **kwargs: the `Autoencoder`'s arguments (hidden_dims, latent_dim, activations, tie_weights,
            optimizer, lr, ...).

    The three eval_* arguments are how a run is scored, not part of the trained model: checkpoints
    leave them out, so `lightning-ae test --ckpt_path ... --model.init_args.eval_noise true` takes
    effect (the checkpoint's hyperparameters would otherwise override the command line).
    """

    def __init__(
        self,
        noise: Noise = "masking",
        noise_level: NonNegativeFloat = 0.3,
        clip: bool = True,
        rescale: bool = False,
        eval_noise: bool = False,
        eval_noise_kind: Noise | None = None,
        eval_noise_level: NonNegativeFloat | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.clip, self.rescale, self.eval_noise = clip, rescale, eval_noise
        self.noise, self.noise_level = self._check_noise("noise", noise, "noise_level", noise_level)
        self.eval_noise_kind, self.eval_noise_level = self._check_noise(
            "eval_noise_kind", noise if eval_noise_kind is None else eval_noise_kind,
            "eval_noise_level", noise_level if eval_noise_level is None else eval_noise_level)

    def _check_noise(self, kind_arg: str, kind: str, level_arg: str, level: float) -> tuple[str, float]:
        if kind in FRACTION_NOISES and level > 1:
            raise ConfigError(f"{level_arg} is the fraction of corrupted pixels for {kind_arg}={kind!r} and must be "
                             f"in [0, 1], got {level}; e.g. 0.3 corrupts 30% of the pixels.")
        if kind == "masking" and self.rescale and level >= 1:
            raise ConfigError(f"rescale=true divides the surviving pixels by 1 - {level_arg}, so {level_arg} must be "
                             f"below 1 for masking, got {level}; lower it or set rescale: false.")
        return kind, float(level)

    def corrupt(self, x: Tensor) -> Tensor:  # (B, 784) clean -> (B, 784) corrupted
        if self.training:
            return self.apply_noise(x, self.noise, self.noise_level)
        return self.apply_noise(x, self.eval_noise_kind, self.eval_noise_level)

    def apply_noise(self, x: Tensor, kind: str, p: float) -> Tensor:
        """`x` corrupted by noise `kind` at level `p` (see the class arguments)."""
        if kind == "none" or p == 0:
            return x
        if kind == "gaussian":
            noisy = x + p * torch.randn_like(x)
            return noisy.clamp(0.0, 1.0) if self.clip else noisy
        hit = torch.rand_like(x) < p  # (B, 784) the corrupted pixels
        if kind == "masking":
            kept = x.masked_fill(hit, 0.0)
            return kept / (1.0 - p) if self.rescale else kept
        salt = (torch.rand_like(x) < 0.5).to(x.dtype)  # salt_pepper: 1 or 0 with equal chance
        return torch.where(hit, salt, x)

    def corrupts_input(self, stage: str) -> bool:
        return self.training or self.eval_noise

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        for name in EVAL_ARGS:  # chosen when the run is scored
            checkpoint.get("hyper_parameters", {}).pop(name, None)

    def figures(self, x: Tensor, y: Tensor) -> dict[str, object]:
        """`denoising/grid`: rows noisy input / reconstruction / clean target, the same noise every epoch."""
        # the same noise every epoch, drawn without moving training's random stream
        with torch.random.fork_rng(devices=[x.device] if x.is_cuda else []):
            torch.manual_seed(FIGURE_SEED)
            noisy = self.corrupt(x)
        kind, level = (self.noise, self.noise_level) if self.training else (self.eval_noise_kind, self.eval_noise_level)
        noise = "no noise" if kind == "none" or level == 0 else f"{kind.replace('_', ' ')} noise {level:g}"
        return {"denoising/grid": figures.labelled_grid(
            [noisy, self(noisy), x], [f"input, {noise}", f"{type(self).__name__}'s reconstruction", "clean target"],
            side=self.image_shape)}
