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
    full disk refused first, see :func:`~lava_init.files.atomic_write`).

    Args:
        obj: what to save (tensors, dicts, lists and plain values).
        path: the file to write; an existing one is replaced only once the new one is whole.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> path = atomic_save({"w": torch.ones(2)}, tempfile.mkdtemp() + "/a.pt")
        >>> torch.load(path, weights_only=True)["w"].tolist()
        [1.0, 1.0]
    """
    return atomic_write(path, lambda temp: torch.save(obj, temp),
                        _tensor_bytes(obj) + (64 << 10))


def save_model(path: str | Path, model: torch.nn.Module, config: dict, **extra) -> Path:
    """Save ``{"model_config": config, "model_state": state_dict, **extra}`` atomically.

    Args:
        path: the checkpoint file to write.
        model: the network whose ``state_dict`` is saved.
        config: the JSON-able config :func:`~lava_init.training.models.build_model` rebuilds
            ``model`` from.
        **extra: more entries of the checkpoint (e.g. ``epoch``).

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3}
        >>> path = save_model(tempfile.mkdtemp() + "/m.pt", build_model(config), config, epoch=1)
        >>> sorted(load_checkpoint(path))
        ['epoch', 'model_config', 'model_state']
    """
    return atomic_save({"model_config": config, "model_state": model.state_dict(), **extra}, path)


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict at ``path``; a clear error when it is missing or not a checkpoint.

    Args:
        path: the checkpoint file (read with ``torch.load(weights_only=True)``).

    Returns:
        The checkpoint dict, which has a ``model_config`` entry; FileNotFoundError when there
        is no file, ValueError when torch cannot read it or it is not a lava-init checkpoint.

    Example:
        >>> import tempfile
        >>> path = atomic_save({"model_config": {"arch": "mlp"}}, tempfile.mkdtemp() + "/c.pt")
        >>> load_checkpoint(path)["model_config"]
        {'arch': 'mlp'}
        >>> load_checkpoint(atomic_save({"w": 1}, path))
        Traceback (most recent call last):
        ValueError: ... is not a lava-init checkpoint (no 'model_config' entry)
    """
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
    every parameter and buffer ``model_state`` holds, of the same shape, with finite values.

    Args:
        checkpoint: a checkpoint dict (:func:`load_checkpoint`).
        path: the checkpoint's file, named in the error.

    Returns:
        None; it raises ValueError for a damaged checkpoint.

    Example:
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3}
        >>> state = build_model(config).state_dict()
        >>> check_model_state({"model_config": config, "model_state": state}, "m.pt")
        >>> state["blocks.0.synapse.weight"] = torch.zeros(3, 5, 1, 1, 1)
        >>> check_model_state({"model_config": config, "model_state": state}, "m.pt")
        Traceback (most recent call last):
        ValueError: m.pt: model_state['blocks.0.synapse.weight'] holds shape (3, 5, 1, 1, 1), ...
    """
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
    :func:`check_model_state`).

    Args:
        path: a checkpoint written by :func:`save_model`.

    Returns:
        The network, its weights those of the checkpoint.

    Example:
        >>> import tempfile
        >>> config = {"arch": "mlp", "in_features": 4, "out_features": 2, "depth": 1, "width": 3}
        >>> net = build_model(config)
        >>> loaded = load_model(save_model(tempfile.mkdtemp() + "/m.pt", net, config))
        >>> torch.equal(loaded.blocks[0].synapse.weight, net.blocks[0].synapse.weight)
        True
    """
    checkpoint = load_checkpoint(path)
    check_model_state(checkpoint, path)
    model = build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    return model


def checkpoint_input_shape(path: str | Path) -> tuple[int, ...] | None:
    """One sample's input shape from a checkpoint's model config (None if it has none).

    Args:
        path: a checkpoint written by :func:`save_model`.

    Returns:
        ``in_shape`` (CNNs) or ``(in_features,)`` (MLPs) of its ``model_config``, without
        time; None when the config names neither.

    Example:
        >>> import tempfile
        >>> path = atomic_save({"model_config": {"in_shape": [1, 28, 28]}},
        ...                    tempfile.mkdtemp() + "/c.pt")
        >>> checkpoint_input_shape(path)
        (1, 28, 28)
    """
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
