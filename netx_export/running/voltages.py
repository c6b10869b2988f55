"""The membrane voltages Lava computes for a NetX network, step by step, in Loihi's integers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netx_export.running.interrupts import stop_runtime
from netx_export.running.lava_run import (
    _run_config,
    _source_data,
    _to_slayer_neurons,
    checked_input,
    load_lava_network,
    netx_plan,
)

#: Loihi's voltage register counts SLAYER's volts in units of 1/4096 (a threshold mantissa
#: shifted left by 6, in weight units of 1/64).
VOLTAGE_UNIT = 4096


def lava_voltages(path: str | Path, spikes, backend: str = "fixed_pt") -> list[np.ndarray]:
    """Run one sample on the NetX network at ``path`` and record every layer's voltage ``v``.

    Args:
        path: a NetX file (:func:`netx_export.export_netx`).
        spikes: one sample, SLAYER order ``(*input, T)``.
        backend: ``"fixed_pt"`` (Lava's CPU simulator) or ``"loihi2"``.

    Returns:
        One int64 array ``(neurons, T)`` per Lava layer: ``v`` after each step as Lava holds
        it (0 after a spike: Lava resets before it is read), :data:`VOLTAGE_UNIT` = 1.0 in
        SLAYER units; neurons in SLAYER's (C, H, W) order.

    >>> import tempfile, torch; from lava.lib.dl import slayer; from netx_export import export_netx
    >>> neuron = {"threshold": 8.0, "current_decay": 1.0, "voltage_decay": 0.5}
    >>> path = export_netx(torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 1, 1)),
    ...                    tempfile.mkdtemp() + "/net.net")
    >>> lava_voltages(path, torch.ones(1, 4))[0].shape
    (1, 4)
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer
    from lava.proc.monitor.process import Monitor

    path = Path(path)
    run_config = _run_config(backend)
    plan = netx_plan(path)
    sample = checked_input(path, plan, spikes)[0]
    steps = sample.shape[-1]
    lava = load_lava_network(path, plan)
    RingBuffer(data=_source_data(sample, plan)).s_out.connect(lava.input_port)
    monitors = []
    for layer in lava.network.layers:
        monitors.append(Monitor())
        monitors[-1].probe(layer.neuron.v, steps)
    stopped = False
    try:
        lava.network.run(condition=RunSteps(num_steps=steps), run_cfg=run_config)
        recorded = [next(iter(m.get_data().values()))["v"] for m in monitors]
        stop_runtime(lava.network, False)
        stopped = True
    finally:
        if not stopped:
            stop_runtime(lava.network, True)
    return [_to_slayer_neurons(np.moveaxis(np.asarray(v), 0, -1)).astype(np.int64)
            for v in recorded]
