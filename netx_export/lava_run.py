"""Run a NetX HDF5 network on Lava and record every layer's output spikes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from netx_export.interrupts import LavaInterrupted, interruptible, stop_runtime

#: Backends ``run_lava`` accepts: Lava's bit-accurate CPU simulator and Loihi 2 hardware.
BACKENDS = ("fixed_pt", "loihi2")
#: Lava state variables that carry one sample's history into the next (zeroed between samples).
STATE_VARIABLES = ("u", "v", "a_buff", "a_buf")
#: The Loihi 2 compiler module that only lava-loihi provides.
LOIHI2_COMPILER = "lava.magma.compiler.subcompilers.nc.ncproc_compiler"


def loihi2_available() -> bool:
    """True when lava-loihi (Loihi 2 hardware access) is installed; never raises."""
    try:
        return importlib.util.find_spec(LOIHI2_COMPILER) is not None
    except (ImportError, ValueError):
        return False


def _run_config(backend: str):
    if backend == "fixed_pt":
        from lava.magma.core.run_configs import Loihi2SimCfg

        return Loihi2SimCfg(select_tag="fixed_pt")
    if backend == "loihi2":
        if not loihi2_available():
            raise ValueError(
                "backend 'loihi2' needs Loihi 2 hardware access (lava-loihi, available to Intel "
                "INRC members); use backend='fixed_pt' for the bit-accurate CPU simulator"
            )
        from lava.magma.core.run_configs import Loihi2HwCfg

        return Loihi2HwCfg()
    raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")


def _input_layer_transform(path: Path) -> tuple[int, int] | None:
    """``(weight, bias)`` in Lava's integer units (64 = 1.0) if ``layer/0`` is an Input block
    with a neuron, else None (the first synapse layer takes the spikes)."""
    with h5py.File(path, "r") as handle:
        first = handle["layer/0"]
        kind = first["type"][0].decode("ascii")
        if kind != "input" or "neuron" not in first:
            return None
        weight = int(np.asarray(first["weight"]).ravel()[0]) if "weight" in first else 64
        bias = int(np.asarray(first["bias"]).ravel()[0]) if "bias" in first else 0
        return weight, bias


def _to_lava_order(spikes: np.ndarray) -> np.ndarray:
    """SLAYER (C, H, W, T) -> Lava (W, H, C, T); (features, T) stays."""
    return spikes.transpose(2, 1, 0, 3) if spikes.ndim == 4 else spikes


def _to_slayer_neurons(spikes: np.ndarray) -> np.ndarray:
    """Lava (W, H, C, T) or (features, T) -> (neurons in SLAYER's C, H, W order, T)."""
    if spikes.ndim == 4:
        spikes = spikes.transpose(2, 1, 0, 3)
    return spikes.reshape(-1, spikes.shape[-1])


def _check_spikes(spikes: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """Spikes as (batch, *sample_shape, T); ValueError when the shape or values do not fit."""
    given = tuple(spikes.shape)
    if spikes.ndim == len(sample_shape) + 1:
        spikes = spikes[None]
    if spikes.ndim != len(sample_shape) + 2 or tuple(spikes.shape[1:-1]) != sample_shape:
        raise ValueError(
            f"spikes of shape {given} do not fit the network input {sample_shape} (SLAYER "
            "order, channels first); give (*input, T) or (batch, *input, T)"
        )
    if spikes.shape[0] < 1:
        raise ValueError(f"spikes of shape {given} hold no sample; give at least one")
    if spikes.shape[-1] < 1:
        raise ValueError("spikes need at least one time step")
    if not np.isin(spikes, (0, 1)).all():
        raise ValueError("run_lava takes binary spikes (0 or 1); rate-encode graded inputs first")
    return spikes


def _reset_state(network) -> None:
    """Zero every neuron and synapse state so that the next sample starts fresh."""
    for layer in network.layers:
        for part in ("neuron", "synapse", "synapse_rec"):
            process = getattr(layer, part, None)
            for name in STATE_VARIABLES:
                variable = getattr(process, name, None)
                if variable is not None:
                    variable.set(np.zeros(variable.shape, dtype=np.int32))


def run_lava(path: str | Path, spikes, backend: str = "fixed_pt", progress: bool = False
             ) -> list[np.ndarray]:
    """Run the NetX network at ``path`` on ``spikes`` and return each layer's output spikes.

    Samples run one after another for T steps each, every state zeroed in between; Lava
    delays each synapse layer by one step. The runtime is always stopped, also on errors;
    SIGINT and SIGTERM raise :class:`~netx_export.interrupts.LavaInterrupted` (a
    KeyboardInterrupt) once the runtime and every worker it started have ended.

    Args:
        path: a NetX HDF5 file (e.g. from :func:`netx_export.export_netx`).
        spikes: binary array (numpy or torch) in SLAYER order, one sample ``(*input, T)`` or a
            batch ``(batch, *input, T)``; ``input`` is ``(features,)`` or ``(C, H, W)``.
        backend: ``"fixed_pt"`` (Lava's bit-accurate CPU simulator,
            ``Loihi2SimCfg(select_tag="fixed_pt")``) or ``"loihi2"`` (needs lava-loihi).
        progress: a progress bar over the samples (on stderr, only on a terminal).

    Returns:
        One int array per NetX layer (Flatten has none): ``(neurons, T)`` for one sample,
        ``(batch, neurons, T)`` for a batch, neurons in SLAYER's (C, H, W) order.

    >>> import tempfile, torch; from lava.lib.dl import slayer; from netx_export import export_netx
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4))
    >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
    >>> [layer.shape for layer in run_lava(path, torch.ones(8, 5))]
    [(4, 5)]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NetX network at {path}; write one with export_netx")
    run_config = _run_config(backend)
    spikes = np.asarray(spikes.detach().cpu() if hasattr(spikes, "detach") else spikes)
    network, input_transform = _load_network(path)
    interrupted = False
    try:
        with interruptible():
            batch, source, sinks = _connect(network, spikes, input_transform)
            outputs = _run_samples(network, batch, source, sinks, input_transform, run_config,
                                   progress)
    except LavaInterrupted:
        interrupted = True
        raise
    finally:
        stop_runtime(network, interrupted)
    return outputs if spikes.ndim == batch.ndim else [layer[0] for layer in outputs]


def _load_network(path: Path):
    """The NetX network (its file closed again) and the Input layer's transform, if any."""
    from lava.lib.dl.netx import hdf5

    try:
        input_transform = _input_layer_transform(path)
        network = hdf5.Network(net_config=str(path))
    except Exception as error:
        raise ValueError(f"NetX cannot load {path} ({type(error).__name__}: {error}); "
                         "write it with export_netx") from None
    network.net_config.f.close()
    return network, input_transform


def _source_data(sample: np.ndarray, input_transform: tuple[int, int] | None) -> np.ndarray:
    """One sample in Lava's order and integer units (through the Input layer's transform)."""
    data = _to_lava_order(sample).astype(np.int32)
    if input_transform:
        weight, bias = input_transform
        data = data * weight + bias
    return data


def _connect(network, spikes: np.ndarray, input_transform: tuple[int, int] | None):
    """Check the spikes against the network input; connect a source and one sink per layer.

    Returns ``(batch, source, sinks)``.
    """
    from lava.proc.io.sink import RingBuffer as SpikeSink
    from lava.proc.io.source import RingBuffer as SpikeSource

    port = network.in_layer.neuron.a_in if input_transform else network.inp
    lava_shape = tuple(port.shape)
    sample_shape = lava_shape[::-1] if len(lava_shape) == 3 else lava_shape
    batch = _check_spikes(spikes, sample_shape)
    source = SpikeSource(data=_source_data(batch[0], input_transform))
    source.s_out.connect(port)
    sinks = []
    for layer in network.layers:
        sink = SpikeSink(shape=layer.out.shape, buffer=batch.shape[-1])
        layer.out.connect(sink.a_in)
        sinks.append(sink)
    return batch, source, sinks


def _run_samples(network, batch: np.ndarray, source, sinks: list,
                 input_transform: tuple[int, int] | None, run_config, progress: bool
                 ) -> list[np.ndarray]:
    """Each sample for T steps, states zeroed in between; (batch, neurons, T) per layer."""
    from lava.magma.core.run_conditions import RunSteps

    outputs: list[list[np.ndarray]] = [[] for _ in sinks]
    samples = tqdm(batch, desc="Lava", unit="sample", leave=False,
                   disable=None if progress and len(batch) > 1 else True)
    for index, sample in enumerate(samples):
        if index > 0:
            _reset_state(network)
            source.data.set(_source_data(sample, input_transform))
        network.run(condition=RunSteps(num_steps=batch.shape[-1]), run_cfg=run_config)
        for recorded, sink in zip(outputs, sinks, strict=True):
            recorded.append(_to_slayer_neurons(sink.data.get()).astype(np.int8))
    return [np.stack(recorded) for recorded in outputs]
