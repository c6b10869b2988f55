"""Turning static data into SLAYER spike tensors."""

from __future__ import annotations

import torch

from lava_init.checks import check_count


def rate_encode(
    values: torch.Tensor, time_steps: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Bernoulli spikes with probability ``values`` (in [0, 1]) at each of ``time_steps`` steps.

    ``values``: (batch, features...) -> spikes (batch, features..., time_steps), float 0/1.
    """
    check_count(time_steps, "time_steps")
    if values.numel() and (values.min() < 0 or values.max() > 1):
        raise ValueError("rate_encode needs intensities in [0, 1]; divide the data by its maximum")
    probabilities = values.unsqueeze(-1).expand(*values.shape, time_steps)
    return torch.bernoulli(probabilities, generator=generator)
