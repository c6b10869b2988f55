"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only."""

from __future__ import annotations

from pathlib import Path

import torch

from lava_init.files import atomic_write
from lava_init.training.models import build_model


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


def check_model_state(checkpoint: dict, path: str | Path) -> None:
    """ValueError (one line naming the entry and the fix) unless the checkpoint's
    ``model_config`` builds a network (tried on the meta device: nothing is allocated) whose
    every parameter and buffer ``model_state`` holds, of the same shape, with finite values."""
    config, state = checkpoint.get("model_config"), checkpoint.get("model_state")
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a lava-init checkpoint (its model_config is not a "
                         "dict); save models with lava_init.training.checkpoints.save_model")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no model_state (the network's weights); save models "
                         "with lava_init.training.checkpoints.save_model")
    try:
        with torch.device("meta"):
            expected = build_model(config).state_dict()
    except (TypeError, KeyError, ValueError, AttributeError, RuntimeError) as error:
        reason = f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) \
            else str(error)
        raise ValueError(f"{path}: its model_config cannot build a network ({reason}); "
                         "the checkpoint is damaged or from another program") from None
    for key, tensor in expected.items():
        stored = state.get(key)
        if not isinstance(stored, torch.Tensor) or stored.shape != tensor.shape:
            found = "nothing" if stored is None else \
                f"shape {tuple(stored.shape)}" if isinstance(stored, torch.Tensor) \
                else type(stored).__name__
            raise ValueError(f"{path}: model_state[{key!r}] holds {found}, the model_config "
                             f"needs shape {tuple(tensor.shape)}; the checkpoint is damaged")
        if stored.is_floating_point() and not torch.isfinite(stored).all():
            raise ValueError(f"{path}: model_state[{key!r}] holds NaN or infinite values; "
                             "the checkpoint is damaged (retrain or use an earlier one)")
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        raise ValueError(f"{path}: model_state holds {unexpected[0]!r}, which the model_config's "
                         "network does not have; the checkpoint is damaged")


def load_model(path: str | Path) -> torch.nn.Module:
    """Rebuild the network saved at ``path`` and load its weights (checked first:
    :func:`check_model_state`)."""
    checkpoint = load_checkpoint(path)
    check_model_state(checkpoint, path)
    model = build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    return model


def checkpoint_input_shape(path: str | Path) -> tuple[int, ...] | None:
    """One sample's input shape from a checkpoint's model config (None if it has none)."""
    config = load_checkpoint(path)["model_config"]
    try:
        if "in_shape" in config:
            return tuple(int(n) for n in config["in_shape"])
        if "in_features" in config:
            return (int(config["in_features"]),)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: its model_config's input shape is not whole numbers; the "
                         "checkpoint is damaged") from None
    return None
