"""A Lava sink that writes each step's spikes straight into a memory-mapped file.

Lava's own ``RingBuffer`` sink returns its data through ``Var.get``, which Lava 0.10 sends
one number per message: reading (neurons x T) spikes per layer and sample was most of the
0.27 s per-sample overhead of ``run_lava``. :class:`SpikeRecorder` writes into a
``numpy.memmap`` that the process which built the network reads after the run: no message.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

#: Stored spike type: NetX CUBA layers send 0/1 (int8 keeps big batches small in memory).
SPIKE_DTYPE = np.int8


def open_record(path: str, shape: tuple[int, ...], steps: int, mode: str = "r") -> np.memmap:
    """The record file of a :class:`SpikeRecorder`: ``(*shape, steps)`` spikes.

    Args:
        path: the file (``mode="w+"`` creates it, zero-filled).
        shape: the recorded layer's shape, in Lava's order.
        steps: the columns, one per recorded time step.
        mode: ``numpy.memmap``'s mode: ``"r"`` to read, ``"r+"`` to write, ``"w+"`` to create.

    Returns:
        The int8 memory map.

    Example:
        >>> import tempfile
        >>> record = open_record(tempfile.mkdtemp() + "/layer0.spikes", (4,), 5, mode="w+")
        >>> record.shape, record.dtype, int(record.sum())
        ((4, 5), dtype('int8'), 0)
    """
    return np.memmap(path, dtype=SPIKE_DTYPE, mode=mode, shape=(*shape, steps))


class SpikeRecorder(AbstractProcess):
    """Records the spikes on ``a_in`` at column ``(time_step - 1) % steps`` of the file
    ``path`` (created beforehand with ``open_record(..., mode="w+")``)."""

    def __init__(self, *, shape: tuple[int, ...], path: str, steps: int) -> None:
        super().__init__(shape=shape, path=path, steps=steps)
        self.a_in = InPort(shape=shape)


@implements(proc=SpikeRecorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySpikeRecorderModel(PyLoihiProcessModel):
    """Writes each received vector into the memory map (opened once, in Lava's process)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.record: np.memmap | None = None

    def run_spk(self) -> None:
        spikes = self.a_in.recv()
        if self.record is None:
            self.record = open_record(self.proc_params["path"], tuple(self.proc_params["shape"]),
                                      self.proc_params["steps"], mode="r+")
        self.record[..., (self.time_step - 1) % self.record.shape[-1]] = spikes
