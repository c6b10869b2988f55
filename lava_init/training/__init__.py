"""Training SLAYER networks with lava-init (layer 4): the run's config and its plan
(:mod:`.config`), data sets as spikes (:mod:`.data`; N-MNIST-format recordings:
:mod:`.saccades`), the SLAYER MLP / CNNs (:mod:`.models`), checkpoints (:mod:`.checkpoints`),
the loop (:mod:`.loop`) and the export with its Lava check (:mod:`.lava_check`).
:mod:`lava_init.experiments` and :mod:`lava_init.cli` build on it; the library below never
imports it.
"""

import threading

from tqdm import tqdm

# tqdm's default lock is a multiprocessing RLock, whose creation fixes the process start
# method; Lava sets its own on its first run and fails if one is set, so every progress bar
# of training and the experiments uses a thread lock (none draws bars from several processes).
tqdm.set_lock(threading.RLock())
