"""The MNIST-1D depth sweep: its shared budget, its recipes and the rule that reads its rows.

``benchmarks/mnist1d_depth.py`` trains and stores the rows, the README's results table and
tutorial 7 read them back; all three take the settings and the reading rule from here
(docs/depth.md describes the sweep and what it shows).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from dataclasses import dataclass

from lava_init.training.config import TRAIN_NEURON, TrainConfig

#: The neuron of every row: memoryless CUBA, threshold 1 (issue 29's setting).
NEURON = dataclasses.replace(TRAIN_NEURON, threshold=1.0)
#: The shared budget: MNIST-1D's 4,000 training signals, batch 32, T steps of graded input.
BASE = TrainConfig(dataset="mnist1d", arch="cnn1d", channels=32, width=100, time_steps=4,
                   encoding="graded", batch_size=32, neuron=NEURON, readout_population=16,
                   conserve_gradient=False, delay_shift=False, progress=False)
#: lava-init: the paper's init calibrated to a hidden rate of 0.1, the surrogate conserved.
LAVA_INIT = {"init": "variance_conserving", "calibrate": True, "hidden_rate": 0.1,
             "conserve_gradient": True}
#: lava-init with each hidden block's mean current subtracted: the base of the levers below.
NORM = {**LAVA_INIT, "mean_norm": True}
#: The controls: the paper's init as it is, Kaiming and SLAYER's default.
CONTROLS = {"paper": {"init": "variance_conserving"}, "kaiming": {"init": "kaiming"},
            "slayer_default": {"init": "slayer_default"}}
#: lava-init's deep recipe: relay blocks, the surrogate set for backward conservation.
RELAY = {"init": "relay", "conserve_gradient": True}
#: A recipe key, not a :class:`TrainConfig` field: the row's ``relay_lr`` is its ``lr``.
RELAYS_AT_LR = "relays_at_lr"
#: A recipe key, not a :class:`TrainConfig` field: the row grows from a :class:`GrowthBase`.
GROWN_FROM = "grown_from"


@dataclass(frozen=True)
class GrowthBase:
    """Where a grown row starts: ``recipe`` trained at depth ``min(row's depth, depth)`` at
    ``lr`` for ``epochs``, with the row's seed; the row then trains the network grown to its
    own depth (relays in the added places: :mod:`lava_init.training.growth`) for the row's
    epochs at the row's rate."""

    recipe: str
    depth: int
    lr: float
    epochs: int

    def depth_for(self, depth: int) -> int:
        """The base's depth for a row of ``depth``: deeper rows grow from :attr:`depth`,
        the others continue their own depth (the shallow controls at the same budget).

        Args:
            depth: the grown row's depth.

        Returns:
            ``min(depth, self.depth)``.

        Example:
            >>> [GrowthBase("lava-init+norm+c64", 4, 0.03, 30).depth_for(d) for d in (1, 4, 16)]
            [1, 4, 4]
        """
        return min(depth, self.depth)


#: The grown recipe: lava-init+norm+c64 trained at depth 4, grown with relays (64 channels).
GROWN = {**RELAY, "mean_norm": True, "channels": 64,
         GROWN_FROM: GrowthBase("lava-init+norm+c64", depth=4, lr=0.03, epochs=30)}

#: Each recipe's settings on top of :data:`BASE`: ``lava-init`` (:data:`LAVA_INIT`); ``relay``
#: lava-init's deep recipe: relay blocks that copy their input at init, trained at ``lr / relays``
#: (:func:`lava_init.training.config.relay_lr`), the surrogate set for backward conservation;
#: ``relay+norm`` the relay recipe with each hidden block's mean current subtracted;
#: ``relay+norm+c64+lr`` that at 64 channels with the relay blocks trained at the full ``lr``
#: (:data:`RELAYS_AT_LR`), ``+n0.5`` / ``+n1.0`` with relay noise 0.5 / 1.0 (``relay_noise``:
#: partial relays, between a copy and a random block); ``lava-init+norm`` (:data:`NORM`: NetX stores
#: the subtracted mean as the neuron bias); ``+drop`` lava-dl's neuron dropout (p 0.1) on every
#: block but the readout (training only); ``+shift`` each training signal moved by up to 2 samples
#: along the signal, anew each epoch; ``+T8``, ``+c64``, ``+w256``: T = 8 steps, 64-channel
#: convolutions or a Dense of 256 (``+c64+T8``: both); the :data:`CONTROLS`, as they are and
#: with 64 channels (``+c64``: the controls of ``lava-init+norm+c64`` at its shape);
#: ``grown+c64``: ``lava-init+norm+c64`` trained 30 epochs at its best rate (3e-2) at depth 4
#: (or the row's, when smaller), grown to the row's depth with relays, trained on at the
#: row's rate (:class:`GrowthBase`); ``grown+c64+n0.5`` / ``+n1.0`` the same with partial
#: relays (relay noise 0.5 / 1.0) in the added places.
RECIPES = {
    "lava-init": LAVA_INIT,
    "relay": RELAY,
    "relay+norm": {**RELAY, "mean_norm": True},
    "relay+norm+c64": {**RELAY, "mean_norm": True, "channels": 64},
    "relay+norm+c64+lr": {**RELAY, "mean_norm": True, "channels": 64, RELAYS_AT_LR: True},
    **{f"relay+norm+c64+lr+n{noise}": {**RELAY, "mean_norm": True, "channels": 64,
                                       RELAYS_AT_LR: True, "relay_noise": noise}
       for noise in (0.5, 1.0)},
    "lava-init+norm": NORM,
    "lava-init+norm+drop": {**NORM, "dropout": 0.1},
    "lava-init+norm+shift": {**NORM, "shift": 2},
    "lava-init+norm+T8": {**NORM, "time_steps": 8},
    "lava-init+norm+c64": {**NORM, "channels": 64},
    "lava-init+norm+c64+T8": {**NORM, "channels": 64, "time_steps": 8},
    "lava-init+norm+w256": {**NORM, "width": 256},
    **CONTROLS,
    **{f"{name}+c64": {**recipe, "channels": 64} for name, recipe in CONTROLS.items()},
    "grown+c64": GROWN,
    **{f"grown+c64+n{noise}": {**GROWN, "relay_noise": noise} for noise in (0.5, 1.0)},
}
#: The ANN reference rows: ``ann`` the ReLU CNN of :data:`BASE`'s shape with torch's default
#: init, ``ann+c64`` with the 64 channels of ``lava-init+norm+c64``, ``ann+c64+he`` that with
#: He's init (Kaiming normal for ReLU, zero biases).
ANN_SHAPES = {"ann": {}, "ann+c64": {"channels": 64},
              "ann+c64+he": {"channels": 64, "init": "kaiming"}}


@dataclass(frozen=True)
class DepthResult:
    """One recipe at one depth as the sweep reports it: at the longest budget stored for that
    depth, the learning rate best at the sweep's seed (the smallest seed stored at every rate),
    with the mean final accuracy over that rate's stored seeds."""

    accuracy: float
    epoch1_accuracy: float
    lr: float
    epochs: int
    seeds: int


def recipe_of(row: dict) -> str:
    """A stored row's recipe: its init, with ``T<steps>`` added where the row ran another T
    than its recipe's own (``--time-steps``).

    Args:
        row: a stored row of the sweep (its ``init`` and ``config["time_steps"]``).

    Returns:
        The recipe's name, as :data:`RECIPES` keys it, or that name and ``T<steps>``.

    Example:
        >>> recipe_of({"init": "lava-init+norm", "config": {"time_steps": 4}})
        'lava-init+norm'
        >>> recipe_of({"init": "lava-init+norm+T8", "config": {"time_steps": 8}})
        'lava-init+norm+T8'
        >>> recipe_of({"init": "kaiming", "config": {"time_steps": 8}})
        'kaiming T8'
    """
    steps = row["config"]["time_steps"]
    own = {**dataclasses.asdict(BASE), **RECIPES.get(row["init"], {})}["time_steps"]
    return row["init"] if steps == own else f"{row['init']} T{steps}"


def best_by_depth(rows: dict[str, dict], recipe: str) -> dict[int, DepthResult]:
    """``recipe``'s stored rows per depth, read by the sweep's rule (:class:`DepthResult`):
    the rates compete at one seed, the one they share, so that a rate run at one seed is not
    weighed against another rate's mean over three.

    Args:
        rows: the stored rows (``runs.json``: label -> row with ``init``, ``config``,
            ``test_acc``, ``epoch1_acc``).
        recipe: a recipe as :func:`recipe_of` names it.

    Returns:
        Depth -> :class:`DepthResult`, by depth.

    Example:
        >>> def row(depth, lr, acc, seed=0):
        ...     config = {"depth": depth, "lr": lr, "epochs": 30, "time_steps": 4, "seed": seed}
        ...     return {"init": "kaiming", "config": config, "test_acc": acc, "epoch1_acc": 0.3}
        >>> rows = {"a": row(4, 0.01, 0.70), "b": row(4, 0.03, 0.72), "c": row(4, 0.01, 0.76, 1),
        ...         "d": row(4, 0.03, 0.74, 1)}
        >>> best_by_depth(rows, "kaiming")[4]  # 0.03 is better at seed 0: its mean over 2 seeds
        DepthResult(accuracy=0.73, epoch1_accuracy=0.3, lr=0.03, epochs=30, seeds=2)
    """
    runs: dict[tuple[int, int, float], dict[int, dict]] = defaultdict(dict)
    for row in rows.values():
        if recipe_of(row) == recipe:
            config = row["config"]
            runs[config["depth"], config["epochs"], config["lr"]][config["seed"]] = row
    longest = {depth: max(e for d, e, _ in runs if d == depth) for depth, _, _ in runs}
    best: dict[int, DepthResult] = {}
    for depth, epochs in sorted(longest.items()):
        by_lr = {lr: seeds for (d, e, lr), seeds in runs.items() if (d, e) == (depth, epochs)}
        shared = set.intersection(*(set(seeds) for seeds in by_lr.values()))
        lr = max(by_lr, key=lambda rate: (  # no seed at every rate: the means compete
            by_lr[rate][min(shared)]["test_acc"] if shared
            else statistics.mean(r["test_acc"] for r in by_lr[rate].values())))
        seeds = list(by_lr[lr].values())
        best[depth] = DepthResult(statistics.mean(r["test_acc"] for r in seeds),
                                  statistics.mean(r["epoch1_acc"] for r in seeds), lr, epochs,
                                  len(seeds))
    return best
