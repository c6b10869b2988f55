"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only."""

from __future__ import annotations

from pathlib import Path

import torch

from lava_init.apps.models import build_model
from lava_init.files import atomic_write


def _tensor_bytes(obj: object) -> int:
    """Bytes of the tensors in ``obj`` (nested dicts, lists and tuples)."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(value) for value in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(value) for value in obj)
    return 0


def atomic_save(obj: object, path: str | Path) -> Path:
    """``torch.save`` to a temp file in the target's folder, then rename over ``path`` (a
    full disk refused first, see :func:`~lava_init.files.atomic_write`)."""
    return atomic_write(path, lambda temp: torch.save(obj, temp),
                        _tensor_bytes(obj) + (64 << 10))


def save_model(path: str | Path, model: torch.nn.Module, config: dict, **extra) -> Path:
    """Save ``{"model_config": config, "model_state": state_dict, **extra}`` atomically."""
    return atomic_save({"model_config": config, "model_state": model.state_dict(), **extra}, path)


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict at ``path``; a clear error when it is missing or not a checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with 'lava-init train'")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        # torch's own advice (rerun with weights_only=False) is never right here: keep the cause
        reason = str(error).rsplit("WeightsUnpickler error:", 1)[-1].strip().splitlines()
        reason = reason[0] if reason else type(error).__name__
        raise ValueError(f"{path} is not a lava-init checkpoint (torch cannot read it: "
                         f"{reason}); train one with 'lava-init train --out DIR'") from None
    if not isinstance(checkpoint, dict) or "model_config" not in checkpoint:
        raise ValueError(f"{path} is not a lava-init checkpoint (no 'model_config' entry)")
    return checkpoint


def load_model(path: str | Path) -> torch.nn.Module:
    """Rebuild the network saved at ``path`` and load its weights."""
    checkpoint = load_checkpoint(path)
    model = build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    return model


def checkpoint_input_shape(path: str | Path) -> tuple[int, ...] | None:
    """One sample's input shape from a checkpoint's model config (None if it has none)."""
    config = load_checkpoint(path)["model_config"]
    if "in_shape" in config:
        return tuple(int(n) for n in config["in_shape"])
    if "in_features" in config:
        return (int(config["in_features"]),)
    return None


def checkpoint_input_levels(path: str | Path) -> int | None:
    """Levels per unit of the graded input a checkpoint's network takes (its model config's
    ``input_levels``, ``--encoding graded``), None for spikes: ``export_netx``'s
    ``input_levels``."""
    return load_checkpoint(path)["model_config"].get("input_levels")
