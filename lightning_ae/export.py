"""Export a trained autoencoder's encoder and decoder as files that plain PyTorch loads, without this package.

    python -m lightning_ae.export --ckpt_path logs/ae_2d/run/checkpoints/last.ckpt --out exported/
    lightning-ae export --ckpt_path logs/ae_2d/run/checkpoints/last.ckpt --out exported/

writes into `--out`:

- `encoder.pt2`, `decoder.pt2`: `torch.export` programs (`torch.export.save`), any batch size.
  Load with `torch.export.load("encoder.pt2").module()`; they need torch only (the graph is made of
  torch's own operators; no class of this package is pickled in them).
- `encoder.onnx`, `decoder.onnx`: when the `onnx` extra is installed (`pip install 'lightning-ae[onnx]'`);
  `--onnx true` insists on them, `--onnx false` leaves them out.
- `export.json` (input shape, dtype, value range, latent_dim, image shape, the model and checkpoint)
  and `README.txt`, the same in words with the lines that load the files.

The encoder maps images (B, input_dim), float32 in [0, 1] flattened row by row, to codes (B, latent_dim);
a VAE's encoder gives the posterior mean. The decoder maps codes back to images (B, input_dim).
Every autoencoder variant (`AutoencoderModule`: PCA, Autoencoder, VAE, IWAE, sparse, denoising,
stacked, linear) exports; a Classifier checkpoint has no decoder and is refused. The checkpoint is
read with `weights_only=True` (`lightning_ae.checkpoints`). TorchScript is not written:
`torch.jit.trace`/`script` are deprecated in favour of `torch.export` (torch >= 2.9 warns so).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from lightning_ae.checkpoints import CheckpointError, load_checkpoint, missing_checkpoint
from lightning_ae.errors import USER_ERRORS, ConfigError, describe, root_cause

FILES = {"encoder": "encoder.pt2", "decoder": "decoder.pt2"}
ONNX_FILES = {"encoder": "encoder.onnx", "decoder": "decoder.onnx"}
META_FILE, README_FILE = "export.json", "README.txt"


class Half(nn.Module):
    """One half of an autoencoder as a module of its own: `model.encode` ((B, input_dim) images -> (B,
    latent_dim) codes) or `model.decode` (codes -> images), the function `torch.export` traces."""

    def __init__(self, model: nn.Module, method: str) -> None:
        super().__init__()
        self.model, self.method = model, method

    def forward(self, t: Tensor) -> Tensor:
        return getattr(self.model, self.method)(t)


def load_autoencoder(ckpt_path: str | Path):
    """The autoencoder of a lightning-ae checkpoint, on the CPU in eval mode; CheckpointError if it is none."""
    import lightning_ae.models as models  # Lightning builds only classes already imported

    if missing_checkpoint(ckpt_path) is not None:
        raise CheckpointError(f"checkpoint {ckpt_path} does not exist{' (it is a folder)' if Path(ckpt_path).is_dir() else ''}; "
                              "give a .ckpt file (a run keeps them in logs/<name>/<version>/checkpoints/).")
    ckpt = load_checkpoint(ckpt_path)  # weights_only: an untrusted pickle is refused before anything in it runs
    class_path = str((ckpt.get("hyper_parameters") or {}).get("_class_path") or "")
    name = class_path.rsplit(".", 1)[-1]
    autoencoders = sorted(n for n in models.__all__ if issubclass(getattr(models, n), models.AutoencoderModule)
                          and n != "AutoencoderModule")
    if name not in autoencoders:
        what = (f"is of a {name}, which has no decoder" if name == "Classifier" else
                f"belongs to {class_path}, not to one of lightning-ae's autoencoders" if class_path else
                "names no model class (it was not written by `lightning-ae fit`)")
        raise CheckpointError(f"checkpoint {ckpt_path} {what}; export takes the checkpoint of an autoencoder "
                              f"({', '.join(autoencoders)}).")
    model = getattr(models, name).load_from_checkpoint(ckpt_path, map_location="cpu", weights_only=True)
    return model.float().eval(), ckpt


def _export(module: nn.Module, example: Tensor) -> torch.export.ExportedProgram:
    """`module` exported with a dynamic batch, holding only the weights its graph reads (the encoder's
    file without the decoder's, and without a VAE's log-variance head)."""
    dynamic = ({0: torch.export.Dim("batch", min=1)},)  # the one input, by position
    program = torch.export.export(module, (example,), dynamic_shapes=dynamic)
    signature = program.graph_signature
    read = {node.name for node in program.graph.nodes if node.op == "placeholder" and node.users}
    unread = [target for name, target in {**signature.inputs_to_parameters, **signature.inputs_to_buffers}.items()
              if name not in read]
    if not unread:
        return program
    module = copy.deepcopy(module)
    for target in unread:
        owner, _, name = target.rpartition(".")
        delattr(module.get_submodule(owner), name)  # never read by the traced graph, so never missed
    return torch.export.export(module, (example,), dynamic_shapes=dynamic)


def _image_shape(model, input_dim: int) -> list[int] | None:
    shape = getattr(model, "image_shape", None)
    if shape is not None:
        return [int(s) for s in shape]
    side = int(round(input_dim ** 0.5))
    return [side, side] if side * side == input_dim else None


def describe_export(model, ckpt: dict, ckpt_path: str | Path, files: dict[str, str]) -> dict:
    """What the exported files take and give (export.json)."""
    from lightning_ae.models import VariationalAutoencoder

    hp, data = dict(ckpt.get("hyper_parameters") or {}), dict(ckpt.get("datamodule_hyper_parameters") or {})
    input_dim, latent_dim = int(model.input_dim), int(model.latent_dim)
    sigmoid = isinstance(model, VariationalAutoencoder) or hp.get("output_activation") == "sigmoid"
    binarized = bool(data.get("binarize"))
    images = {"shape": ["batch", input_dim], "dtype": "float32", "range": [0.0, 1.0],
              "layout": "each image flattened row by row (H x W -> H*W), pixel values scaled to [0, 1] (uint8 / 255)"
                        + ("; trained on binarized images (pixels 0 or 1)" if binarized else "")}
    codes = {"shape": ["batch", latent_dim], "dtype": "float32",
             "meaning": "the posterior mean of q(z|x)" if isinstance(model, VariationalAutoencoder) else "the code"}
    return {
        "model": type(model).__name__, "class_path": hp.get("_class_path"),
        "checkpoint": str(Path(ckpt_path).resolve()), "epoch": ckpt.get("epoch"), "global_step": ckpt.get("global_step"),
        "input_dim": input_dim, "image_shape": _image_shape(model, input_dim), "latent_dim": latent_dim,
        "dataset": data.get("path") or data.get("dataset") or ("mnist" if data else None),  # before datasets: MNIST
        "files": files,
        "encoder": {"input": images, "output": codes},
        "decoder": {"input": codes, "output": {"shape": ["batch", input_dim], "dtype": "float32",
                                               "range": [0.0, 1.0] if sigmoid else None,
                                               "meaning": "the reconstruction" + ("" if sigmoid else
                                                          " (not clamped: values may fall slightly outside [0, 1])")}},
        "torch": torch.__version__,
    }


def readme(meta: dict) -> str:
    h, w = meta["image_shape"] or ("H", "W")
    onnx = "encoder" in meta["files"].get("onnx", {})
    return f"""Encoder and decoder of the {meta['model']} (lightning-ae), exported from
{meta['checkpoint']} (epoch {meta['epoch']}, step {meta['global_step']}).

encoder.pt2: images (batch, {meta['input_dim']}) float32 in [0, 1] -> codes (batch, {meta['latent_dim']}) float32 ({meta['encoder']['output']['meaning']})
decoder.pt2: codes (batch, {meta['latent_dim']}) float32 -> images (batch, {meta['input_dim']}) float32{' in [0, 1]' if meta['decoder']['output']['range'] else ' (not clamped)'}
An image of {h} x {w} pixels is flattened row by row: x = torch.as_tensor(uint8_images).reshape(-1, {meta['input_dim']}).float() / 255
{'encoder.onnx, decoder.onnx: the same networks as ONNX (input "x" / "z", dynamic batch).' if onnx else ''}
Load them with torch alone (no lightning-ae needed):

    import torch
    encoder = torch.export.load("encoder.pt2").module()
    decoder = torch.export.load("decoder.pt2").module()
    with torch.no_grad():
        z = encoder(x)        # x: (batch, {meta['input_dim']}) float32 in [0, 1]
        x_hat = decoder(z)    # (batch, {meta['input_dim']}); x_hat.reshape(-1, {h}, {w}) to view

export.json holds the same facts for programs.
"""


def onnx_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))


def export(ckpt_path: str, out: str = "exported", onnx: bool | None = None) -> Path:
    """Write the checkpoint's encoder and decoder into `out` (see the module's docstring); returns `out`.

    Args:
        ckpt_path: a checkpoint of an autoencoder written by `lightning-ae fit` (e.g. logs/ae_2d/run/checkpoints/last.ckpt).
        out: the folder to write encoder.pt2, decoder.pt2, export.json and README.txt into.
        onnx: also write encoder.onnx and decoder.onnx (None: when the `onnx` extra is installed).
    """
    if onnx and not onnx_available():
        raise ConfigError("--onnx true needs the onnx and onnxscript packages: pip install 'lightning-ae[onnx]'.")
    model, ckpt = load_autoencoder(ckpt_path)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    parts = {"encoder": (Half(model, "encode").eval(), torch.rand(2, model.input_dim), "x"),
             "decoder": (Half(model, "decode").eval(), torch.randn(2, model.latent_dim), "z")}
    files: dict = dict(FILES)
    with torch.no_grad():
        for part, (module, example, arg) in parts.items():
            torch.export.save(_export(module, example), folder / FILES[part])
        if onnx or (onnx is None and onnx_available()):
            for part, (module, example, arg) in parts.items():
                torch.onnx.export(module, (example,), str(folder / ONNX_FILES[part]), input_names=[arg],
                                  output_names=["z" if arg == "x" else "x_hat"], dynamo=True, external_data=False,
                                  dynamic_shapes={arg: {0: torch.export.Dim("batch", min=1)}}, verbose=False)
            files["onnx"] = dict(ONNX_FILES)
    meta = describe_export(model, ckpt, ckpt_path, files)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    (folder / README_FILE).write_text(readme(meta))
    return folder


def main(argv: list[str] | None = None) -> None:
    """`python -m lightning_ae.export` / `lightning-ae export`: user errors are one line and exit status 2."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(prog="lightning-ae export", description=__doc__.split("\n\n")[0], exit_on_error=False)
    parser.add_function_arguments(export, as_group=False)
    try:
        config = parser.parse_args(sys.argv[1:] if argv is None else argv)
        folder = export(config.ckpt_path, config.out, config.onnx)
    except Exception as e:
        if not (isinstance(e, USER_ERRORS) or isinstance(root_cause(e), USER_ERRORS)) or os.environ.get("LIGHTNING_AE_DEBUG"):
            raise
        print(f"lightning-ae export: error: {describe(e, 'export')}", file=sys.stderr)
        sys.exit(2)
    names = sorted(p.name for p in folder.iterdir())
    print(f"exported {config.ckpt_path} to {folder}/: {', '.join(names)}")


if __name__ == "__main__":
    main()
