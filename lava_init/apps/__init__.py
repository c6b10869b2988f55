"""Applications built on the lava-init library (layer 4): nothing below imports them.

* training: :mod:`.data` (data sets as spikes), :mod:`.models` (SLAYER MLP / CNN),
  :mod:`.checkpoints`, :mod:`.training` (the loop), :mod:`.lava_check` (export + Lava);
* the paper's propagation study: :mod:`.propagation` and its figures :mod:`.plots`;
* :mod:`.demo`, the main job;
* :mod:`.cli` and :mod:`.commands`: the ``lava-init`` command line.
"""

import threading

from tqdm import tqdm

# tqdm's default lock is a multiprocessing RLock, whose creation fixes the process start
# method; Lava sets its own on its first run and fails if one is set, so every progress bar
# of the apps uses a thread lock (the apps never draw bars from several processes).
tqdm.set_lock(threading.RLock())
