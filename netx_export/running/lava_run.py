"""Run a NetX HDF5 network on Lava and record every layer's output spikes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from lava_init.checks import check_allocation
from lava_init.files import process_alive
from lava_init.signals import raise_if_signalled
from netx_export.netx_file import LAYER_TYPES, NetxFile, read_netx_file
from netx_export.running.interrupts import LavaInterrupted, interruptible, stop_runtime, watched
from netx_export.running.workers import map_samples, resolve_workers

#: Backends ``run_lava`` accepts: Lava's bit-accurate CPU simulator and Loihi 2 hardware.
BACKENDS = ("fixed_pt", "loihi2")
#: Lava state variables that carry one sample's history into the next (zeroed between samples).
STATE_VARIABLES = ("u", "v", "a_buff", "a_buf")
#: The Loihi 2 compiler module that only lava-loihi provides.
LOIHI2_COMPILER = "lava.magma.compiler.subcompilers.nc.ncproc_compiler"
#: NetX layer types lava-dl 0.6.0's loader cannot create (NotImplementedError): such a layer
#: and every layer after it are skipped and named in :attr:`NetxPlan.skipped`.
UNRUNNABLE_LAYERS = tuple(kind for kind, row in LAYER_TYPES.items() if not row.created)
#: NetX layer types that become a Lava layer with neurons (an ``input`` one only with a neuron).
NEURON_LAYERS = tuple(kind for kind, row in LAYER_TYPES.items() if row.neurons)
#: OS processes a Lava run starts per layer (synapse, neuron, recorder) and once (source,
#: runtime service, shared-memory manager): 2 layers start 9.
PROCESSES_PER_LAYER, PROCESSES_PER_RUN = 3, 3
#: Most Lava processes all workers of one run may start together (each costs about
#: :data:`LAVA_PROCESS_BYTES`; 559 processes reached 18 GB).
MAX_LAVA_PROCESSES = 384
#: Record folders of Lava runs in the temp folder: ``lava-run-<pid>-<random>``.
RUN_FOLDER_PREFIX = "lava-run-"
#: Memory one Lava process takes (a forked Python with numpy and Lava loaded).
LAVA_PROCESS_BYTES = 32 << 20
#: Memory one neuron takes in Lava's fixed-point models (its state variables, int32/int64).
LAVA_BYTES_PER_NEURON = 96


def loihi2_available() -> bool:
    """True when lava-loihi (Loihi 2 hardware access) is installed; never raises.

    Returns:
        Whether backend ``"loihi2"`` can run.

    Example:
        >>> loihi2_available() in (True, False)  # False without lava-loihi (Intel INRC only)
        True
    """
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


def _to_lava_order(spikes: np.ndarray) -> np.ndarray:
    """SLAYER (C, H, W, T) -> Lava (W, H, C, T); (features, T) stays."""
    return spikes.transpose(2, 1, 0, 3) if spikes.ndim == 4 else spikes


def _to_slayer_neurons(spikes: np.ndarray) -> np.ndarray:
    """Lava (W, H, C, T) or (features, T) -> (neurons in SLAYER's C, H, W order, T)."""
    if spikes.ndim == 4:
        spikes = spikes.transpose(2, 1, 0, 3)
    return spikes.reshape(-1, spikes.shape[-1])


def input_message_bits(levels: int) -> int:
    """Bits of the graded messages that carry values up to 1 on the ``1 / levels`` grid.

    Args:
        levels: grid points per unit (``export_netx``'s ``input_levels``).

    Returns:
        The message width NetX is loaded with.

    Example:
        >>> input_message_bits(16)
        5
    """
    return int(levels).bit_length()


def _check_spikes(spikes: np.ndarray, sample_shape: tuple[int, ...], graded: bool = False,
                  levels: int | None = None) -> np.ndarray:
    """Spikes as (batch, *sample_shape, T); ValueError when the shape or values do not fit.
    ``graded``: any finite values (an Input layer with neurons scales them); ``levels``:
    multiples of ``1 / levels`` that fit the first layer's messages; else 0/1."""
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
    if (graded or levels) and not np.isfinite(spikes).all():
        raise ValueError("the input holds NaN or infinite values; give finite values")
    if levels:
        messages = spikes * levels
        largest = 2 ** input_message_bits(levels) - 1
        if (messages != np.rint(messages)).any() or messages.min() < 0 or messages.max() > largest:
            raise ValueError(f"this network takes graded input on the 1/{levels} grid in "
                             f"[0, {largest / levels:g}]; round the values to it (e.g. "
                             "lava_init.encoding.ramp_encode)")
    elif not graded and not np.isin(spikes, (0, 1)).all():
        raise ValueError("run_lava takes binary spikes (0 or 1); rate-encode graded inputs first "
                         "(graded values are taken only by a network whose layer/0 is an Input "
                         "layer with neurons, or one exported with input_levels)")
    return spikes


@dataclass(frozen=True)
class NetxPlan:
    """What NetX builds from a checked file (:func:`netx_export.netx_file.read_netx_file`).

    ``layers``: ``(name, type)`` of each Lava layer with neurons, ``name`` = ``layer/{i}`` in
    the file; ``skipped``: ``(name, type)`` of the layers NetX cannot run (the first
    :data:`UNRUNNABLE_LAYERS` one and all after it); ``num_layers``: the file layers NetX
    loads; ``input_transform``: ``(weight, bias)`` of an Input layer with neurons in Lava's
    integer units (64 = 1.0), else None (the first synapse layer takes the spikes);
    ``input_levels``: the first synapse layer takes graded messages ``value * input_levels``
    (``export_netx(..., input_levels=)``), else None; ``file``: the checked file.
    """

    layers: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    num_layers: int
    input_transform: tuple[int, int] | None
    input_levels: int | None = None
    file: NetxFile | None = field(default=None, repr=False, compare=False)


def netx_plan(path: str | Path) -> NetxPlan:
    """The :class:`NetxPlan` of the NetX file ``path``, checked first (a ValueError names the
    layer, the field and the valid range of anything NetX or Lava must not see).

    Args:
        path: a NetX HDF5 file.

    Returns:
        What NetX builds from it.

    Example:
        >>> import tempfile, torch
        >>> from lava.lib.dl.slayer.block import cuba
        >>> from netx_export import export_netx
        >>> layer = cuba.Dense({"threshold": 1.0, "current_decay": 1, "voltage_decay": 1}, 6, 3)
        >>> plan = netx_plan(export_netx(torch.nn.Sequential(layer), tempfile.mkdtemp() + "/a.net"))
        >>> plan.layers, plan.skipped, plan.input_transform
        ([('layer/0', 'dense')], [], None)
    """
    netx = read_netx_file(path)
    lava_layers = netx.lava_layers
    transform = None
    if lava_layers[0].kind == "input":
        with h5py.File(netx.path, "r") as handle:
            transform = _input_transform(handle[f"layer/{lava_layers[0].index}"])
    return NetxPlan([(layer.name, layer.kind) for layer in lava_layers], list(netx.skipped),
                    netx.created_layers, transform, netx.input_levels, netx)


def _input_transform(group: h5py.Group) -> tuple[int, int]:
    """``(weight, bias)`` of an Input layer with neurons, as NetX reads them (64 = 1.0)."""
    weight = int(np.asarray(group["weight"]).ravel()[0]) if "weight" in group else 64
    bias = int(np.asarray(group["bias"]).ravel()[0]) if "bias" in group else 0
    return weight, bias


@dataclass
class LavaNetwork:
    """A loaded NetX network, its plan and the input it takes (SLAYER order, one sample)."""

    network: object
    plan: NetxPlan
    sample_shape: tuple[int, ...]
    input_port: object = field(repr=False)


def load_lava_network(path: Path, plan: NetxPlan) -> LavaNetwork:
    """Load the runnable layers of ``path`` with NetX (its file closed again).

    Nothing runs yet: the Lava processes are built, not compiled or started.

    Args:
        path: the NetX file.
        plan: its :func:`netx_plan`.

    Returns:
        The :class:`LavaNetwork`; ValueError when NetX cannot load the file.

    Example:
        >>> import tempfile
        >>> from lava.lib.dl import slayer
        >>> from netx_export import export_netx
        >>> cuba = {"threshold": 0.5, "current_decay": 0.5, "voltage_decay": 0.5}
        >>> file = export_netx(slayer.block.cuba.Dense(cuba, 10, 4), tempfile.mkdtemp() + "/b.net")
        >>> load_lava_network(file, netx_plan(file)).sample_shape
        (10,)
    """
    from lava.lib.dl.netx import hdf5

    try:
        bits = input_message_bits(plan.input_levels) if plan.input_levels else 0
        network = hdf5.Network(net_config=str(path), num_layers=plan.num_layers,
                               input_message_bits=bits)
    except Exception as error:
        raise ValueError(f"NetX cannot load {path} ({type(error).__name__}: {error}); "
                         "write it with export_netx") from None
    network.net_config.f.close()
    port = network.in_layer.neuron.a_in if plan.input_transform else network.inp
    lava_shape = tuple(port.shape)
    sample_shape = lava_shape[::-1] if len(lava_shape) == 3 else lava_shape
    return LavaNetwork(network, plan, sample_shape, port)


def _source_data(sample: np.ndarray, plan: NetxPlan) -> np.ndarray:
    """One sample in Lava's order and integer units (through the Input layer's transform:
    ``round(x * weight + bias)``; graded messages: ``round(x * input_levels)``)."""
    data = _to_lava_order(sample)
    if plan.input_transform:
        weight, bias = plan.input_transform
        data = np.rint(data * weight + bias)
    elif plan.input_levels:
        data = np.rint(data * plan.input_levels)
    return data.astype(np.int32)


def _reset_state(network) -> None:
    """Zero every neuron and synapse state so that the next sample starts fresh."""
    for layer in network.layers:
        for part in ("neuron", "synapse", "synapse_rec"):
            process = getattr(layer, part, None)
            for name in STATE_VARIABLES:
                variable = getattr(process, name, None)
                if variable is not None:
                    variable.set(np.zeros(variable.shape, dtype=np.int32))


def _from_record(record: np.ndarray, samples: int, steps: int) -> np.ndarray:
    """A recorder's (*lava_shape, samples * steps) -> (samples, neurons in SLAYER order, T)."""
    split = np.asarray(record).reshape(*record.shape[:-1], samples, steps)
    return np.stack([_to_slayer_neurons(split[..., index, :]) for index in range(samples)])


def run_samples(lava: LavaNetwork, batch: np.ndarray, run_config,
                on_sample: Callable[[], None] = lambda: None) -> list[np.ndarray]:
    """Run each sample of ``batch`` for T steps on the loaded network, every state zeroed in
    between: one source holding all samples, one :class:`SpikeRecorder` per layer writing to
    a memory-mapped file, so that a sample costs its steps and one reset, no transfers.
    The caller stops the runtime (:func:`run_in_process` does both).

    Args:
        lava: the network from :func:`load_lava_network`; a source and the recorders are
            connected to it here.
        batch: checked input (:func:`checked_input`), ``(samples, *input, T)``.
        run_config: Lava's run configuration for the backend.
        on_sample: called after each sample.

    Returns:
        (samples, neurons, T) int8 spikes per layer.

    Example:
        >>> import tempfile; from lava.lib.dl.slayer.block import cuba
        >>> from lava.magma.core.run_configs import Loihi2SimCfg
        >>> from netx_export import export_netx
        >>> memoryless = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> path = export_netx(cuba.Dense(memoryless, 8, 4), tempfile.mkdtemp() + "/e.net")
        >>> lava = load_lava_network(path, netx_plan(path))
        >>> config = Loihi2SimCfg(select_tag="fixed_pt")
        >>> # skipped: it runs Lava (forks its processes); run_lava's example runs it
        >>> run_samples(lava, np.ones((2, 8, 5)), config)[0].shape  # doctest: +SKIP
        (2, 4, 5)
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer as SpikeSource

    from netx_export.running.lava_processes.recorder import SpikeRecorder, open_record

    samples, steps = batch.shape[0], batch.shape[-1]
    data = np.concatenate([_source_data(sample, lava.plan) for sample in batch],
                          axis=-1)
    SpikeSource(data=data).s_out.connect(lava.input_port)
    remove_orphaned_run_folders()
    with tempfile.TemporaryDirectory(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-") as folder:
        records = []
        for index, layer in enumerate(lava.network.layers):
            file, shape = f"{folder}/layer{index}.spikes", tuple(layer.out.shape)
            records.append(open_record(file, shape, samples * steps, mode="w+"))
            layer.out.connect(SpikeRecorder(shape=shape, path=file, steps=samples * steps).a_in)
        for index in range(samples):
            if index > 0:
                _reset_state(lava.network)
            lava.network.run(condition=RunSteps(num_steps=steps), run_cfg=run_config)
            on_sample()
        return [_from_record(record, samples, steps) for record in records]


def _layer_owners(lava: LavaNetwork) -> dict[int, str]:
    """Lava process id -> the name of the NetX layer it belongs to (for failure messages)."""
    owners = {}
    for (name, _), layer in zip(lava.plan.layers, lava.network.layers, strict=False):
        for part in ("neuron", "synapse", "synapse_rec"):
            process = getattr(layer, part, None)
            if process is not None:
                owners[process.id] = name
    return owners


def remove_orphaned_run_folders() -> list[Path]:
    """Remove the record folders of Lava runs whose process is gone (killed with SIGKILL, it
    could not remove its own). A folder of a live process is never touched.

    Returns:
        The folders removed.

    Example:
        >>> orphan = Path(tempfile.gettempdir()) / f"{RUN_FOLDER_PREFIX}4999999-doc"
        >>> orphan.mkdir(exist_ok=True)  # no process 4999999 (beyond Linux's pid_max)
        >>> orphan in remove_orphaned_run_folders(), orphan.exists()
        (True, False)
    """
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{RUN_FOLDER_PREFIX}*-*"):
        owner = folder.name[len(RUN_FOLDER_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not process_alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def run_in_process(path: Path, plan: NetxPlan, batch: np.ndarray, backend: str,
                   on_sample: Callable[[], None] = lambda: None) -> list[np.ndarray]:
    """Load, run and stop the network in this process, watched (:func:`watched`): a Lava
    process that ends or a run with no progress raises :class:`LavaRunFailed`, SIGINT and
    SIGTERM raise :class:`LavaInterrupted`, each once the runtime and its processes have
    ended.

    Args:
        path: the NetX file.
        plan: its :func:`netx_plan`.
        batch: checked input, ``(samples, *input, T)``.
        backend: one of :data:`BACKENDS`.
        on_sample: called after each sample.

    Returns:
        (samples, neurons, T) int8 spikes per layer, as :func:`run_samples`.

    Example:
        >>> plan = NetxPlan([("layer/0", "dense")], [], 1, None)
        >>> run_in_process(Path("net.net"), plan, np.ones((1, 8, 5)), "gpu")  # checked first
        Traceback (most recent call last):
        ValueError: unknown backend 'gpu'; valid: fixed_pt, loihi2
    """
    run_config = _run_config(backend)
    lava = load_lava_network(path, plan)
    forced = True
    try:
        with interruptible(), watched(lava.network, _layer_owners(lava)) as watch:

            def sample_done() -> None:
                watch.progress()
                raise_if_signalled(LavaInterrupted)
                on_sample()

            spikes = run_samples(lava, batch, run_config, sample_done)
            forced = False
            watch.stopping()
            stop_runtime(lava.network, forced)
            return spikes
    finally:
        if forced:
            stop_runtime(lava.network, forced)


def lava_processes(plan: NetxPlan) -> int:
    """OS processes one Lava run of ``plan`` starts: a synapse, a neuron and a recorder
    process per layer, the input source, the runtime service and the shared-memory manager.

    Args:
        plan: the file's :class:`NetxPlan`.

    Returns:
        ``3 * layers + 3``.

    Example:
        >>> lava_processes(NetxPlan([("layer/0", "dense"), ("layer/1", "dense")], [], 2, None))
        9
    """
    return PROCESSES_PER_LAYER * len(plan.layers) + PROCESSES_PER_RUN


def run_workers(plan: NetxPlan, batch: np.ndarray, workers: int | None) -> int:
    """Worker processes for running ``batch`` on ``plan``: ``workers`` (default one per 2
    cores), fewer when their Lava processes would pass :data:`MAX_LAVA_PROCESSES`; a
    ValueError, before anything starts, when one run alone passes it or the run's memory
    passes half of the machine's.

    Args:
        plan: the :class:`NetxPlan`, with its checked file.
        batch: the checked input, samples first.
        workers: the workers asked for (None: the default).

    Returns:
        How many workers to start.

    Example:
        >>> import tempfile, torch
        >>> from lava.lib.dl import slayer
        >>> from netx_export import export_netx
        >>> params = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
        >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(params, 16, 8))
        >>> plan = netx_plan(export_netx(net, tempfile.mkdtemp() + "/three.net"))
        >>> run_workers(plan, np.ones((2, 16, 10)), workers=4)  # never more than the samples
        2
    """
    per_run = lava_processes(plan)
    count = resolve_workers(workers, len(batch))
    if per_run > MAX_LAVA_PROCESSES:
        raise ValueError(
            f"{plan.file.path}: its {len(plan.layers)} Lava layers need {per_run} processes "
            f"per run (Lava runs each process model in an OS process), over the cap of "
            f"{MAX_LAVA_PROCESSES}; run a network of at most "
            f"{(MAX_LAVA_PROCESSES - PROCESSES_PER_RUN) // PROCESSES_PER_LAYER} layers")
    count = min(count, MAX_LAVA_PROCESSES // per_run)
    samples, steps = batch.shape[0], batch.shape[-1]
    netx = plan.file
    memory = (count * (per_run * LAVA_PROCESS_BYTES + netx.neurons * LAVA_BYTES_PER_NEURON
                       + netx.weights * 16)
              + 3 * netx.neurons * samples * steps + 8 * batch.size)
    check_allocation(memory, f"running {samples} sample(s) x {steps} steps of {netx.path} "
                     f"({len(plan.layers)} layers, {netx.neurons} neurons, {netx.weights} "
                     f"weights) in {count} worker(s)", "run fewer samples or steps, or fewer "
                     "workers")
    return count


def netx_input_shape(path: str | Path) -> tuple[int, ...]:
    """One sample's input shape (SLAYER order, no time axis) of the NetX file ``path``, read
    from the checked file.

    Args:
        path: the NetX file.

    Returns:
        ``(features,)`` or ``(C, H, W)``.

    Example:
        >>> import tempfile; from lava.lib.dl.slayer.block import cuba
        >>> from netx_export import export_netx
        >>> lif = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.1}
        >>> netx_input_shape(export_netx(cuba.Dense(lif, 12, 4), tempfile.mkdtemp() + "/c.net"))
        (12,)
    """
    return read_netx_file(path).input_shape


def checked_input(path: Path, plan: NetxPlan, spikes) -> np.ndarray:
    """``spikes`` as a checked (batch, *input, T) array for the network at ``path``.

    Args:
        path: the NetX file.
        plan: its :func:`netx_plan`.
        spikes: numpy or torch, one sample ``(*input, T)`` or a batch; ValueError when the
            shape or the values (binary, graded or on the input grid) do not fit.

    Returns:
        The batch as a numpy array.

    Example:
        >>> import tempfile, torch
        >>> from lava.lib.dl import slayer
        >>> from netx_export import export_netx
        >>> cfg = {"threshold": 2.0, "current_decay": 1.0, "voltage_decay": 1.0}
        >>> model = export_netx(slayer.block.cuba.Dense(cfg, 8, 4), tempfile.mkdtemp() + "/d.net")
        >>> checked_input(model, netx_plan(model), torch.ones(8, 5)).shape  # one sample: a batch
        (1, 8, 5)
    """
    values = np.asarray(spikes.detach().cpu() if hasattr(spikes, "detach") else spikes)
    sample_shape = plan.file.input_shape
    return _check_spikes(values, sample_shape, graded=plan.input_transform is not None,
                         levels=plan.input_levels)


@dataclass
class LavaRun:
    """The spikes of every Lava layer, ``(batch, neurons, T)`` each, and the file's plan;
    ``one_sample``: the input was one sample without a batch axis."""

    plan: NetxPlan
    spikes: list[np.ndarray]
    one_sample: bool


def run_netx(path: str | Path, spikes, backend: str = "fixed_pt", progress: bool = False,
             workers: int | None = None) -> LavaRun:
    """:func:`run_lava` on a batch, with the :class:`NetxPlan` (layer names, skipped layers).

    :func:`run_lava`'s example runs a network through it.

    Args:
        path: the NetX file.
        spikes: the input, as for :func:`run_lava`.
        backend: as for :func:`run_lava`.
        progress: a progress bar over the samples.
        workers: worker processes (None: one per 2 cores).

    Returns:
        A :class:`LavaRun`: the plan, the spikes ``(batch, neurons, T)`` per layer and whether
        the input was one sample.

    Example:
        >>> run_netx("no/such.net", np.ones((8, 5)))  # checked before Lava starts
        Traceback (most recent call last):
        FileNotFoundError: no NetX network at no/such.net; write one with export_netx
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NetX network at {path}; write one with export_netx")
    _run_config(backend)
    from lava.lib.dl.netx import hdf5  # noqa: F401 (sets Lava's 'fork' start method, before tqdm)

    plan = netx_plan(path)
    batch = checked_input(path, plan, spikes)
    workers = run_workers(plan, batch, workers)

    def run_share(share: np.ndarray, on_sample: Callable[[], None]) -> list[np.ndarray]:
        return run_in_process(path, plan, share, backend, on_sample)

    one_sample = np.ndim(spikes) < batch.ndim
    return LavaRun(plan, map_samples(run_share, batch, workers, progress), one_sample)


def run_lava(path: str | Path, spikes, backend: str = "fixed_pt", progress: bool = False,
             workers: int | None = None) -> list[np.ndarray]:
    """Run the NetX network at ``path`` on ``spikes`` and return each layer's output spikes.

    Samples run one after another for T steps each, every state zeroed in between (sample
    ``i`` of a batch gives exactly its spikes run alone); Lava delays each synapse layer by
    one step. ``workers`` processes share the batch (default: one per 2 available cores;
    each compiles the network once). Layers NetX cannot create (a trailing ``average``, see
    :data:`UNRUNNABLE_LAYERS`) are left out with every layer after them. Every runtime is
    stopped, also on errors; SIGINT and SIGTERM raise
    :class:`~netx_export.running.interrupts.LavaInterrupted` (a KeyboardInterrupt) once every worker
    and Lava process has ended.

    Args:
        path: a NetX HDF5 file (e.g. from :func:`netx_export.export_netx`).
        spikes: array (numpy or torch) in SLAYER order, one sample ``(*input, T)`` or a batch
            ``(batch, *input, T)``; ``input`` is ``(features,)`` or ``(C, H, W)``. Binary,
            except for a network whose ``layer/0`` is an Input layer with neurons: its
            neurons receive ``round(x * weight + bias)`` (64 = 1.0), so graded values work.
        backend: ``"fixed_pt"`` (Lava's bit-accurate CPU simulator,
            ``Loihi2SimCfg(select_tag="fixed_pt")``) or ``"loihi2"`` (needs lava-loihi).
        progress: a progress bar over the samples (on stderr, only on a terminal).
        workers: processes to run the samples in; 1 runs them in this process.

    Returns:
        One int8 array per Lava layer (Flatten has none): ``(neurons, T)`` for one sample,
        ``(batch, neurons, T)`` for a batch, neurons in SLAYER's (C, H, W) order.

    >>> import tempfile, torch; from lava.lib.dl import slayer; from netx_export import export_netx
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4))
    >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
    >>> [layer.shape for layer in run_lava(path, torch.ones(8, 5))]
    [(4, 5)]
    """
    run = run_netx(path, spikes, backend, progress, workers)
    return [layer[0] for layer in run.spikes] if run.one_sample else run.spikes
