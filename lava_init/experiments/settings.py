"""The experiments' settings (the propagation study, the demo): names and a dataclass,
importable without torch or lava-dl, so the command line's ``--help`` reads them fast."""

from __future__ import annotations

from dataclasses import dataclass

#: Neuron models of the propagation study (:mod:`lava_init.experiments.propagation`).
NEURONS = ("heaviside", "lif", "cuba")
#: The methods the paper compares; ``--methods all`` adds every registered initializer.
PAPER_METHODS = ("variance_conserving", "kaiming", "xavier", "slayer_default")
PAPER_THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Widths of the finite-width sweep used in docs/propagation.md.
SWEEP_WIDTHS = (50, 100, 200, 500, 1000, 2000, 4000)


@dataclass
class DemoSettings:
    """The demo's budget: sized to finish in well under 3 minutes on 2 cores."""

    depth: int = 8
    width: int = 64
    time_steps: int = 4
    epochs: int = 6
    lr: float = 1e-2
    lava_samples: int = 16
    activity_depth: int = 20
    activity_width: int = 128
    seed: int = 0
    progress: bool = True
