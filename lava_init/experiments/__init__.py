"""Experiments on top of training (layer 5): the paper's propagation study
(:mod:`.propagation`, its figures :mod:`.plots`, its settings :mod:`.settings`) and the demo,
the main job (:mod:`.demo`). Importing it imports :mod:`lava_init.training` (and so its tqdm
lock)."""

import lava_init.training  # noqa: F401  (the progress bars' thread lock)
