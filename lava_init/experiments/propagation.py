"""The paper's deep-propagation experiments (Micheli et al., arXiv 2410.00580), vectorised.

A stack of ``depth`` fully connected layers of ``width`` neurons receives the Gaussian input
``u_0 ~ N(0, 1)`` (the same at every time step). Layer ``l`` computes the synaptic input
``u_l = W_l x_l`` from the spikes ``x_l`` of layer ``l - 1`` and turns it into spikes with one
of three neuron models:

* ``heaviside``: ``x_{l+1} = H(u_l - theta)``, memoryless (the paper's theory);
* ``lif``: ``v[t] = beta * v[t-1] + u[t]``, spike when ``v > theta``, soft reset ``v -= theta``;
* ``cuba``: lava-dl SLAYER ``cuba.Dense`` blocks (hard reset, 8-bit weights), initialized with
  :func:`lava_init.initialize`; decays 1.0 give the memoryless neuron of the theory.

Weights are drawn by method name through :mod:`lava_init.init`'s registry, so an initializer
registered later is available here without changes. Per layer the experiment records the
membrane variance (potential before reset, weight units), the variance of the synaptic
input, the spike rate (spikes per neuron per step), the fraction of neurons that never spike,
and the prediction of :func:`lava_init.theory.variance_map`. Layer 0 is the input layer.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from lava.lib.dl import slayer
from tqdm import tqdm

from lava_init import theory
from lava_init.checks import check_count, check_decay, check_sigma
from lava_init.experiments.settings import NEURONS
from lava_init.files import atomic_write_text
from lava_init.initializers import INITIALIZERS, InitMethod, get_initializer
from lava_init.network_init import initialize
from lava_init.tables import format_table
from lava_init.training.config import NeuronConfig

#: Synaptic-input samples per layer in the width sweep: batch = this / width (at least 8).
SWEEP_SAMPLES_PER_LAYER = 64_000


@dataclass(frozen=True)
class PropagationSetup:
    """One network configuration; thresholds and methods are swept on top of it.

    ``sigma``: target membrane std of the variance-conserving rule (weight units; the paper's
    1.0). ``time_steps``: steps per sample (``heaviside`` always uses 1, its neurons have no
    memory). ``leak``: LIF ``beta`` in [0, 1] (0 = memoryless). ``current_decay`` /
    ``voltage_decay``: CUBA decays per step (1.0 = memoryless, lava-dl tutorials 0.25 / 0.03).
    ``networks``: independent realizations (weights and input) whose statistics are averaged;
    the theory is an average over weights, one network of finite width scatters around it.
    """

    neuron: str = "heaviside"
    depth: int = 100
    width: int = 1000
    batch: int = 16
    time_steps: int = 20
    sigma: float = 1.0
    leak: float = 0.5
    current_decay: float = 1.0
    voltage_decay: float = 1.0
    networks: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.neuron not in NEURONS:
            raise ValueError(f"unknown neuron {self.neuron!r}; valid: {', '.join(NEURONS)}")
        for name in ("depth", "width", "batch", "time_steps", "networks"):
            check_count(getattr(self, name), name)
        check_sigma(self.sigma)
        for name in ("leak", "current_decay", "voltage_decay"):
            check_decay(getattr(self, name), f"--{name.replace('_', '-')}")

    @property
    def steps(self) -> int:
        """Time steps actually simulated (1 for the memoryless Heaviside network)."""
        return 1 if self.neuron == "heaviside" else self.time_steps


@dataclass(frozen=True)
class LayerRecord:
    """Statistics of one layer for one method and threshold: one row of the CSV.

    ``variance``: Var of the membrane potential before reset; ``input_variance``: Var of the
    synaptic input ``W x`` (both weight units, pooled over batch, neurons and steps);
    ``predicted_variance``: :func:`lava_init.theory.variance_map` (memoryless theory; NaN for a
    method without a closed-form Var[w]); ``rate``: spikes per neuron per step;
    ``silent_fraction``: neurons without a spike for any sample and step.
    """

    neuron: str
    method: str
    threshold: float
    sigma: float
    width: int
    layer: int
    variance: float
    input_variance: float
    predicted_variance: float
    rate: float
    silent_fraction: float


CSV_COLUMNS = tuple(f.name for f in fields(LayerRecord))
_FIELD_TYPES = {"neuron": str, "method": str, "width": int, "layer": int}
_FIELD_TYPES.update({name: float for name in CSV_COLUMNS if name not in _FIELD_TYPES})


def parse_thresholds(text: str, neuron: str = "heaviside") -> tuple[float, ...]:
    """``"0,0.5,1"`` -> (0.0, 0.5, 1.0); thresholds must be finite and >= 0 (> 0 for cuba).

    Args:
        text: the comma-separated thresholds (``--thresholds``).
        neuron: the neuron model; ``cuba`` needs thresholds of at least SLAYER's step 1/64.

    Returns:
        The thresholds; ValueError naming the option for anything else.

    Example:
        >>> parse_thresholds("0,0.5,1")
        (0.0, 0.5, 1.0)
        >>> parse_thresholds("0,1", neuron="cuba")
        Traceback (most recent call last):
        ValueError: --thresholds: 0.0 is below SLAYER's threshold step 1/64 ...
    """
    values = _parse_list(text, float, "--thresholds", "0,0.5,1")
    for value in values:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"--thresholds: {value!r} is not a threshold; use finite numbers "
                             ">= 0 (the paper sweeps 0,0.25,0.5,0.75,1)")
        if neuron == "cuba" and value < 1 / 64:
            raise ValueError(f"--thresholds: {value!r} is below SLAYER's threshold step 1/64 "
                             "(it stores int(theta*64)/64); use thresholds >= 0.015625 with "
                             "--neuron cuba")
    return values


def parse_widths(text: str) -> tuple[int, ...]:
    """``"50,100,200"`` -> (50, 100, 200); an empty string means no sweep.

    Args:
        text: the comma-separated widths (``--widths``).

    Returns:
        The widths, each at least 1; ValueError for anything else.

    Example:
        >>> parse_widths("50,100,200"), parse_widths("")
        ((50, 100, 200), ())
    """
    if not text.strip():
        return ()
    values = _parse_list(text, int, "--widths", "50,100,1000")
    if min(values) < 1:
        raise ValueError(f"--widths: every width must be >= 1 (got {min(values)})")
    return values


def parse_methods(text: str) -> tuple[str, ...]:
    """Comma-separated registered names, or ``all`` for every registered initializer.

    Args:
        text: the comma-separated initializer names (``--methods``), or ``all``.

    Returns:
        The names; ValueError for one that is not registered.

    Example:
        >>> parse_methods("kaiming,xavier")
        ('kaiming', 'xavier')
        >>> "variance_conserving" in parse_methods("all")
        True
    """
    if text.strip() == "all":
        return tuple(INITIALIZERS)
    names = _parse_list(text, str, "--methods", "variance_conserving,kaiming")
    for name in names:
        get_initializer(name)
    return names


def _parse_list(text: str, kind: type, flag: str, example: str) -> tuple:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or not all(items):
        raise ValueError(f"{flag}: could not parse {text!r}; give a comma-separated list "
                         f"such as {example}")
    try:
        return tuple(kind(item) for item in items)
    except ValueError:
        raise ValueError(f"{flag}: could not parse {text!r}; give a comma-separated list "
                         f"such as {example}") from None


def predicted_variances(method: InitMethod, threshold: float, setup: PropagationSetup
                        ) -> np.ndarray:
    """``variance_map`` for layers 0..depth with the method's closed-form Var[w] (NaN if none).

    Args:
        method: a registered initializer (:func:`~lava_init.initializers.get_initializer`).
        threshold: the neurons' threshold.
        setup: the network (its depth, width and sigma).

    Returns:
        The predicted membrane variance of layers 0..depth.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> conserving, kaiming = get_initializer("variance_conserving"), get_initializer("kaiming")
        >>> predicted_variances(conserving, 1.0, setup).round(3).tolist()
        [1.0, 1.0, 1.0, 1.0]
        >>> predicted_variances(kaiming, 1.0, setup).round(3).tolist()
        [1.0, 0.317, 0.076, 0.0]
    """
    if method.variance is None:
        return np.full(setup.depth + 1, np.nan)
    weight_var = method.variance(setup.width, setup.width, threshold, setup.sigma)
    return theory.variance_map(setup.width, weight_var, threshold, setup.depth)


def _realization_seeds(seed: int, network: int) -> tuple[int, int]:
    """Independent (input, weight) seeds of realization ``network`` of run ``seed``."""
    input_seed, weight_seed = np.random.SeedSequence([seed, network]).generate_state(2)
    return int(input_seed), int(weight_seed)


def input_currents(setup: PropagationSetup, network: int = 0) -> torch.Tensor:
    """The seeded input ``u_0 ~ N(0, 1)`` of one realization, shape (batch, width), float32.

    Args:
        setup: the network (its batch, width and seed).
        network: the realization's index.

    Returns:
        The input currents, (batch, width).

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> currents = input_currents(setup)
        >>> tuple(currents.shape), torch.equal(currents, input_currents(setup))
        ((8, 50), True)
        >>> torch.equal(currents, input_currents(setup, network=1))
        False
    """
    generator = torch.Generator().manual_seed(_realization_seeds(setup.seed, network)[0])
    return torch.randn((setup.batch, setup.width), generator=generator)


def _weight_generator(setup: PropagationSetup, network: int) -> torch.Generator:
    """Weights use one seed for every method and threshold (common random numbers)."""
    return torch.Generator().manual_seed(_realization_seeds(setup.seed, network)[1])


def lif_soft_reset(drive: torch.Tensor, thresholds: torch.Tensor, leak: float
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """LIF neurons with soft reset over the time axis 1 of ``drive`` (thresholds, T, ...).

    ``v[t] = leak * v[t-1] + drive[t]``; spike when ``v[t] > theta``; then ``v -= theta``.
    ``thresholds`` broadcasts against ``drive[:, t]``. With ``leak = 0`` this is the Heaviside
    neuron ``H(drive - theta)``.

    Args:
        drive: the input per step, (thresholds, T, ...).
        thresholds: the thresholds, broadcast against ``drive[:, t]``.
        leak: ``beta``, the fraction of the voltage kept per step.

    Returns:
        ``(membrane, spikes)``: the voltage before reset and the 0/1 spikes, both of
        ``drive``'s shape.

    Example:
        >>> membrane, spikes = lif_soft_reset(torch.full((1, 3, 1), 0.6), torch.tensor(1.0), 1.0)
        >>> [round(v, 2) for v in membrane.flatten().tolist()], spikes.flatten().tolist()
        ([0.6, 1.2, 0.8], [0.0, 1.0, 0.0])
    """
    membrane = torch.empty_like(drive)
    spikes = torch.empty_like(drive)
    potential = torch.zeros_like(drive[:, 0])
    for step in range(drive.shape[1]):
        potential = leak * potential + drive[:, step]
        membrane[:, step] = potential
        fired = (potential > thresholds).to(drive.dtype)
        spikes[:, step] = fired
        potential = potential - thresholds * fired
    return membrane, spikes


def _layer_statistics(membrane: torch.Tensor, drive: torch.Tensor, spikes: torch.Tensor
                      ) -> np.ndarray:
    """(thresholds, 4): membrane var, input var, rate, silent fraction per threshold.

    Shapes (thresholds, steps, batch, neurons); neurons are the last axis.
    """
    per_neuron = spikes.sum(dim=(1, 2))
    return torch.stack([membrane.flatten(1).var(dim=1, unbiased=False),
                        drive.flatten(1).var(dim=1, unbiased=False),
                        spikes.flatten(1).mean(dim=1),
                        (per_neuron == 0).float().mean(dim=1)], dim=1).double().numpy()


def _draw_weights(method: InitMethod, thresholds: Sequence[float], alive: list[bool],
                  setup: PropagationSetup, generators: list[torch.Generator]) -> torch.Tensor:
    """(count, width, width): one matrix per threshold, or one when the method ignores theta.

    Thresholds whose previous layer is silent get zeros without a draw: their drive is 0
    whatever the weights (and their generator is never used again).
    """
    count = len(thresholds) if method.uses_threshold else 1
    weights = torch.zeros((count, setup.width, setup.width))
    for index in range(count):
        if alive[index] or (count == 1 and any(alive)):
            method.draw(weights[index], threshold=thresholds[index], sigma=setup.sigma,
                        generator=generators[index], **_dynamics(method, setup))
    return weights


def _dynamics(method: InitMethod, setup: PropagationSetup) -> dict[str, float]:
    """Decays for time-aware methods: LIF ``v = beta v + I`` is CUBA with decays (1, 1 - beta)."""
    if not method.uses_dynamics:
        return {}
    leak = setup.leak if setup.neuron == "lif" else 0.0
    return {"current_decay": 1.0, "voltage_decay": 1.0 - leak}


@torch.no_grad()
def _simulate_point_neurons(method: InitMethod, thresholds: Sequence[float],
                            setup: PropagationSetup, network: int, advance: Callable[[], None]
                            ) -> np.ndarray:
    """Heaviside / LIF network, all thresholds at once: statistics (layers, thresholds, 4)."""
    steps, leak = setup.steps, (setup.leak if setup.neuron == "lif" else 0.0)
    theta = torch.tensor(thresholds, dtype=torch.float32).view(-1, 1, 1)
    generators = [_weight_generator(setup, network) for _ in thresholds]
    drive = input_currents(setup, network).expand(len(thresholds), steps, -1, -1)
    membrane, spikes = lif_soft_reset(drive, theta, leak)
    layers = [_layer_statistics(membrane, drive, spikes)]
    for _ in range(setup.depth):
        flat = spikes.reshape(len(thresholds), steps * setup.batch, setup.width)
        weights = _draw_weights(method, thresholds, flat.flatten(1).any(dim=1).tolist(), setup,
                                generators)
        if weights.shape[0] == 1:
            drive = flat.reshape(-1, setup.width) @ weights[0].T
        else:
            drive = torch.bmm(flat, weights.transpose(1, 2))
        drive = drive.view(len(thresholds), steps, setup.batch, setup.width)
        membrane, spikes = lif_soft_reset(drive, theta, leak)
        layers.append(_layer_statistics(membrane, drive, spikes))
        advance()
    return np.stack(layers)


#: Statistics of a layer that receives no spike: membrane and input at 0, all neurons silent.
SILENT_LAYER = np.array([0.0, 0.0, 0.0, 1.0])


class _CubaProbe:
    """Forward hook on a CUBA neuron: statistics of its input and (re-computed) voltage."""

    def __init__(self) -> None:
        self.statistics: np.ndarray | None = None

    def __call__(self, neuron: torch.nn.Module, inputs: tuple[torch.Tensor], spikes: torch.Tensor
                 ) -> None:
        drive = inputs[0]
        _, voltage = neuron.dynamics(drive)
        # SLAYER layout (batch, neurons, time) -> (1, time, batch, neurons)
        self.statistics = _layer_statistics(*(t.permute(2, 0, 1).unsqueeze(0)
                                              for t in (voltage, drive, spikes)))[0]


@torch.no_grad()
def _simulate_cuba(method: InitMethod, thresholds: Sequence[float], setup: PropagationSetup,
                   network: int, advance: Callable[[], None]) -> np.ndarray:
    """SLAYER cuba.Dense layers built and initialized one at a time (one in memory).

    Returns statistics (layers, thresholds, 4).
    """
    currents = input_currents(setup, network)
    layers: list[list[np.ndarray]] = [[] for _ in range(setup.depth + 1)]
    for threshold in thresholds:
        neuron = NeuronConfig(threshold=threshold, current_decay=setup.current_decay,
                              voltage_decay=setup.voltage_decay)
        generator = _weight_generator(setup, network)
        inputs = (currents > threshold).float()
        layers[0].append(_layer_statistics(currents[None, None], currents[None, None],
                                           inputs[None, None])[0])
        spikes = inputs.unsqueeze(-1).expand(-1, -1, setup.steps)
        for layer in range(1, setup.depth + 1):
            if not spikes.any():  # no input: every later layer stays at rest
                layers[layer].append(SILENT_LAYER)
                advance()
                continue
            block = slayer.block.cuba.Dense(neuron.params(), setup.width, setup.width,
                                            delay_shift=False)
            initialize(block, method.name, sigma=setup.sigma, generator=generator)
            probe = _CubaProbe()
            handle = block.neuron.register_forward_hook(probe)
            try:
                spikes = block(spikes.contiguous())
            finally:
                handle.remove()
            layers[layer].append(probe.statistics)
            advance()
    return np.array(layers)


def simulate(method: str, thresholds: Sequence[float], setup: PropagationSetup,
             progress: tqdm | None = None) -> list[LayerRecord]:
    """Run the network of ``setup`` initialized with ``method`` at each threshold.

    Statistics are means over ``setup.networks`` realizations. ``progress`` (optional)
    advances once per simulated layer (per threshold for cuba).

    Args:
        method: a registered initializer's name.
        thresholds: the neurons' thresholds to run.
        setup: the network.
        progress: a tqdm bar to advance, or None.

    Returns:
        One :class:`LayerRecord` per threshold and layer (0..depth), thresholds outer.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = simulate("variance_conserving", [0.0, 1.0], setup)
        >>> [(r.threshold, r.layer) for r in records][:5]
        [(0.0, 0), (0.0, 1), (0.0, 2), (0.0, 3), (1.0, 0)]
        >>> all(r.rate > 0 for r in records), round(records[-1].predicted_variance, 6)
        (True, 1.0)
    """
    init_method = get_initializer(method)
    if not thresholds:
        raise ValueError("no thresholds given; pass e.g. --thresholds 0,0.5,1")
    if setup.neuron == "cuba":
        parse_thresholds(",".join(map(str, thresholds)), "cuba")
    run_network = _simulate_cuba if setup.neuron == "cuba" else _simulate_point_neurons
    advance = progress.update if progress is not None else (lambda: None)
    statistics = np.mean([run_network(init_method, thresholds, setup, network, advance)
                          for network in range(setup.networks)], axis=0)
    records = []
    for index, threshold in enumerate(thresholds):
        predicted = predicted_variances(init_method, threshold, setup)
        for layer, (variance, input_variance, rate, silent) in enumerate(statistics[:, index]):
            records.append(LayerRecord(setup.neuron, method, float(threshold), setup.sigma,
                                       setup.width, layer, float(variance),
                                       float(input_variance), float(predicted[layer]),
                                       float(rate), float(silent)))
    return records


def _progress_steps(setup: PropagationSetup, thresholds: Sequence[float]) -> int:
    return setup.depth * setup.networks * (len(thresholds) if setup.neuron == "cuba" else 1)


def propagation_experiment(methods: Iterable[str], thresholds: Sequence[float],
                           setup: PropagationSetup, progress: bool = False
                           ) -> list[LayerRecord]:
    """:func:`simulate` for every method; records in method, threshold, layer order.

    Args:
        methods: registered initializers' names.
        thresholds: the neurons' thresholds.
        setup: the network.
        progress: show a progress bar.

    Returns:
        The records of every method, threshold and layer.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> len(records), [r.method for r in records[::4]]
        (8, ['variance_conserving', 'kaiming'])
    """
    methods = list(methods)
    total = len(methods) * _progress_steps(setup, thresholds)
    with tqdm(total=total, desc=f"{setup.neuron} propagation", unit="layer",
              disable=None if progress else True) as bar:
        return [record for method in methods for record in simulate(method, thresholds, setup,
                                                                    bar)]


def width_sweep(widths: Iterable[int], methods: Iterable[str], thresholds: Sequence[float],
                setup: PropagationSetup, progress: bool = False) -> list[LayerRecord]:
    """The experiment at each width; batch = max(8, 64000 / width) keeps the sample size.

    Args:
        widths: the widths to run.
        methods: registered initializers' names.
        thresholds: the neurons' thresholds.
        setup: the network (its width and batch are replaced per width).
        progress: show a progress bar.

    Returns:
        The records, width by width.

    Example:
        >>> setup = PropagationSetup(depth=2)
        >>> records = width_sweep([50, 100], ["variance_conserving"], [1.0], setup)
        >>> [(r.width, r.layer) for r in records]
        [(50, 0), (50, 1), (50, 2), (100, 0), (100, 1), (100, 2)]
    """
    setups = [replace(setup, width=width, batch=max(8, SWEEP_SAMPLES_PER_LAYER // width))
              for width in widths]
    methods = list(methods)
    total = len(methods) * sum(_progress_steps(s, thresholds) for s in setups)
    with tqdm(total=total, desc="width sweep", unit="layer",
              disable=None if progress else True) as bar:
        return [record for sweep_setup in setups for method in methods
                for record in simulate(method, thresholds, sweep_setup, bar)]


def silent_depth(records: Iterable[LayerRecord], method: str, threshold: float) -> int | None:
    """The first layer where ``method`` at ``threshold`` emits no spike (None if none is).

    Args:
        records: the experiment's records.
        method: the initializer's name.
        threshold: the threshold.

    Returns:
        The layer, or None.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> silent_depth(records, "kaiming", 1.0), silent_depth(records, "variance_conserving", 1.0)
        (3, None)
    """
    for record in records:
        if record.method == method and record.threshold == threshold and record.rate == 0:
            return record.layer
    return None


def write_csv(records: Iterable[LayerRecord], path: str | Path) -> Path:
    """Write the records with a header of :data:`CSV_COLUMNS`, atomically.

    Args:
        records: the records to write (floats to 6 significant digits).
        path: the CSV file.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> path = write_csv(records, Path(tempfile.mkdtemp()) / "propagation.csv")
        >>> path.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
        True
    """
    rows = [{key: f"{value:.6g}" if isinstance(value, float) else value
             for key, value in asdict(record).items()} for record in records]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(text.getvalue(), path)


def theory_deviation(records: Iterable[LayerRecord], method: str, threshold: float,
                     floor: float = 0.01) -> float:
    """max over layers of ``|variance / predicted - 1|`` where the prediction exceeds ``floor``.

    NaN when no layer qualifies (no closed form, or the theory predicts silence at once).

    Args:
        records: the experiment's records.
        method: the initializer's name.
        threshold: the threshold.
        floor: the smallest prediction compared.

    Returns:
        The largest relative deviation from the theory.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> 0 <= theory_deviation(records, "variance_conserving", 1.0) < 1
        True
        >>> theory_deviation(records, "variance_conserving", 0.5)  # no such records
        nan
    """
    ratios = [abs(r.variance / r.predicted_variance - 1.0) for r in records
              if r.method == method and r.threshold == threshold and r.predicted_variance > floor]
    return max(ratios) if ratios else float("nan")


def read_csv(path: str | Path) -> list[LayerRecord]:
    """The records of a CSV written by :func:`write_csv` (e.g. to redraw or tabulate a run).

    Args:
        path: the CSV file.

    Returns:
        The records; FileNotFoundError without the file, ValueError for other columns.

    Example:
        >>> import tempfile
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> back = read_csv(write_csv(records, Path(tempfile.mkdtemp()) / "propagation.csv"))
        >>> len(back), back[5].method, back[5].layer, abs(back[5].rate - records[5].rate) < 1e-6
        (8, 'kaiming', 1, True)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no propagation CSV at {path}; write one with "
                                "'lava-init propagate --out DIR'")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(f"{path} is not a propagation CSV (columns {reader.fieldnames}, "
                             f"expected {', '.join(CSV_COLUMNS)})")
        return [LayerRecord(**{f.name: _FIELD_TYPES[f.name](row[f.name])
                               for f in fields(LayerRecord)}) for row in reader]


def summary_rows(records: Sequence[LayerRecord], layers: Sequence[int] = (10, 50, 100)
                 ) -> tuple[list[str], list[list]]:
    """Var[u] and rate at the given layers, worst deviation from theory and the silent depth:
    the headers and one row per method and threshold.

    Args:
        records: the experiment's records.
        layers: the layers shown (those the records have).

    Returns:
        ``(headers, rows)``.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> headers, rows = summary_rows(records, layers=(1, 3))
        >>> headers[:4], headers[-2:]
        (['method', 'theta', 'Var[u] l1', 'Var[u] l3'], ['max|Var/theory-1|', 'silent from'])
        >>> [(row[0], row[-1]) for row in rows]
        [('variance_conserving', '-'), ('kaiming', 3)]
    """
    by_key = {(r.method, r.threshold, r.layer): r for r in records}
    keys = list(dict.fromkeys((r.method, r.threshold) for r in records))
    shown = [layer for layer in layers if any(k[2] == layer for k in by_key)]
    headers = ["method", "theta", *(f"Var[u] l{layer}" for layer in shown),
               *(f"rate l{layer}" for layer in shown), "max|Var/theory-1|", "silent from"]
    rows = []
    for method, threshold in keys:
        cells = [by_key[(method, threshold, layer)] for layer in shown]
        depth = silent_depth(records, method, threshold)
        rows.append([method, threshold, *(c.variance for c in cells), *(c.rate for c in cells),
                     theory_deviation(records, method, threshold),
                     "-" if depth is None else depth])
    return headers, rows


def summary_table(records: Sequence[LayerRecord], layers: Sequence[int] = (10, 50, 100)) -> str:
    """:func:`summary_rows` as the plain-text table the command prints.

    Args:
        records: the experiment's records.
        layers: the layers shown (those the records have).

    Returns:
        The table, a header, a rule and one line per method and threshold.

    Example:
        >>> setup = PropagationSetup(depth=3, width=50, batch=8)
        >>> records = propagation_experiment(["variance_conserving", "kaiming"], [1.0], setup)
        >>> table = summary_table(records, layers=(1, 3))
        >>> lines = table.splitlines()
        >>> lines[0].split("  ")[0], len(lines), lines[3].split()[0], lines[3].split()[-1]
        ('method', 4, 'kaiming', '3')
    """
    return format_table(*summary_rows(records, layers))
