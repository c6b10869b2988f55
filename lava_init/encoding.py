"""Turning static data into SLAYER spike tensors."""

from __future__ import annotations

import torch

from lava_init.checks import check_count


def _check_intensities(values: torch.Tensor, encoder: str) -> None:
    if values.numel() and (values.min() < 0 or values.max() > 1):
        raise ValueError(f"{encoder} needs intensities in [0, 1]; divide the data by its maximum")


def rate_encode(
    values: torch.Tensor, time_steps: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Bernoulli spikes with probability ``values`` (in [0, 1]) at each of ``time_steps`` steps.

    ``values``: (batch, features...) -> spikes (batch, features..., time_steps), float 0/1.
    """
    check_count(time_steps, "time_steps")
    _check_intensities(values, "rate_encode")
    probabilities = values.unsqueeze(-1).expand(*values.shape, time_steps)
    return torch.bernoulli(probabilities, generator=generator)


def regular_encode(values: torch.Tensor, time_steps: int) -> torch.Tensor:
    """Deterministic spikes: ``round(values * time_steps)`` of them, spread evenly over the
    ``time_steps`` steps (a spike at step t when ``floor((t + 1) v + 1/2) > floor(t v + 1/2)``:
    an integrate-and-fire encoder with subtractive reset, starting half charged).

    The same rate as :func:`rate_encode` without its sampling noise (at T = 3 a Bernoulli
    count of a mid-grey pixel is anything from 0 to 3). ``values`` (batch, features...) in
    [0, 1] -> spikes (batch, features..., time_steps), float 0/1.

    >>> regular_encode(torch.tensor([0.0, 0.34, 0.5, 1.0]), 3).sum(-1).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    check_count(time_steps, "time_steps")
    _check_intensities(values, "regular_encode")
    steps = torch.arange(time_steps + 1, dtype=values.dtype, device=values.device)
    charge = torch.floor(values.unsqueeze(-1) * steps + 0.5)
    return charge.diff(dim=-1)
