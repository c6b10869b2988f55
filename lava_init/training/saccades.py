"""N-MNIST-format event recordings of MNIST by a simulated saccade camera.

The real N-MNIST (Orchard et al. 2015) is MNIST shown to an ATIS event camera that makes three
saccades along a triangle, about 100 ms each, on a 34 x 34 sensor. This module records MNIST
digits the same way in software: each digit, padded to 34 x 34, moves along a triangle
(vertices in pixels: :data:`SACCADE`) in :data:`SUBSTEPS` steps per saccade; a DVS pixel model
emits ON / OFF events whenever a pixel's log intensity has moved by :data:`CONTRAST` since its
last event. The recordings are written in the original .bin format
(``OUT/NMNIST/Train|Test/<digit>/<n>.bin``), so ``load_dataset("nmnist", data_dir=OUT)`` reads
them through tonic exactly as it reads the real data.

These are synthetic recordings, not the real N-MNIST: no sensor noise, no refractory period.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from lava_init.training.data import NMNIST_FOLDERS, load_idx_images, write_nmnist_events

#: Sensor side (pixels) and the digit's offset in it (MNIST is 28 x 28).
SENSOR = 34
OFFSET = (SENSOR - 28) // 2
#: Triangle of image shifts (dx, dy) in pixels; the three saccades visit them in order and
#: return to the start.
SACCADE = ((0.0, -2.0), (2.0, 1.5), (-2.0, 1.5))
#: Duration of one saccade (microseconds) and the sub-steps simulated in it.
SACCADE_US = 100_000
SUBSTEPS = 50
#: Log-intensity change that makes a pixel emit an event, and the floor added to intensities
#: (fraction of full scale) before the log.
CONTRAST = 0.25
FLOOR = 0.1


def saccade_events(images: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Events ``(x, y, t_us, polarity)`` for each 28 x 28 uint8 image (polarity 1 = ON).

    Args:
        images: the images, (N, 28, 28) uint8.

    Returns:
        One tuple of four int arrays per image: columns and rows on the 34 x 34 sensor,
        times in microseconds within the three saccades (0 .. 299,999) and polarities.

    Example:
        >>> images = np.zeros((2, 28, 28), dtype=np.uint8)
        >>> images[0, 10:18, 10:18] = 255  # a bright square; image 1 stays dark
        >>> events = saccade_events(images)
        >>> x, y, t_us, polarity = events[0]
        >>> x.size > 0, int(t_us.max()) < 3 * SACCADE_US, sorted(set(polarity.tolist()))
        (True, True, [0, 1])
        >>> events[1][0].size  # nothing moves, nothing is recorded
        0
    """
    frames = np.zeros((len(images), SENSOR, SENSOR), dtype=np.float32)
    frames[:, OFFSET:OFFSET + 28, OFFSET:OFFSET + 28] = images / 255.0
    path = [*SACCADE, SACCADE[0]]

    def log_view(dx: float, dy: float) -> np.ndarray:
        shifted = ndimage.shift(frames, (0.0, dy, dx), order=1, mode="constant")
        return np.log(np.clip(shifted, 0.0, 1.0) + FLOOR)

    reference = log_view(*path[0])
    collected: list[list[np.ndarray]] = [[] for _ in images]
    for segment in range(len(SACCADE)):
        (x0, y0), (x1, y1) = path[segment], path[segment + 1]
        for step in range(1, SUBSTEPS + 1):
            fraction = step / SUBSTEPS
            current = log_view(x0 + fraction * (x1 - x0), y0 + fraction * (y1 - y0))
            crossings = np.trunc((current - reference) / CONTRAST)
            reference += crossings * CONTRAST
            t_us = segment * SACCADE_US + step * SACCADE_US // SUBSTEPS - 1
            sample, y, x = np.nonzero(crossings)
            polarity = (crossings[sample, y, x] > 0).astype(np.int64)
            for index in np.unique(sample):
                chosen = sample == index
                collected[index].append(np.stack([x[chosen], y[chosen],
                                                  np.full(chosen.sum(), t_us),
                                                  polarity[chosen]]))
    return [tuple(np.concatenate(parts, axis=1)) if parts else tuple(np.zeros((4, 0), int))
            for parts in collected]


def record_split(images: np.ndarray, labels: np.ndarray, folder: str | Path,
                 batch: int = 500) -> int:
    """Record 28 x 28 uint8 ``images`` into ``folder/<digit>/<n>.bin``; returns the number of
    events written.

    Args:
        images: the images, (N, 28, 28) uint8.
        labels: their digits, (N,).
        folder: the split's folder (``.../NMNIST/Train`` or ``Test``).
        batch: images simulated at once.

    Returns:
        The number of events written over all files.

    Example:
        >>> import tempfile
        >>> images = np.zeros((2, 28, 28), dtype=np.uint8)
        >>> images[:, 10:18, 10:18] = 255
        >>> folder = Path(tempfile.mkdtemp())
        >>> events = record_split(images, np.array([3, 7]), folder)
        >>> sorted(str(p.relative_to(folder)) for p in folder.rglob("*.bin")), events > 0
        (['3/00000.bin', '7/00001.bin'], True)
    """
    folder, total = Path(folder), 0
    for start in range(0, len(images), batch):
        chunk = slice(start, start + batch)
        for number, (events, label) in enumerate(zip(saccade_events(images[chunk]),
                                                     labels[chunk], strict=True), start):
            target = folder / str(int(label)) / f"{number:05d}.bin"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_nmnist_events(target, *events)
            total += events[0].size
    return total


def record_saccade_nmnist(mnist_dir: str | Path, out: str | Path, limit: int,
                          test_limit: int) -> dict[str, tuple[int, int]]:
    """Record the first ``limit`` MNIST training and ``test_limit`` test digits (the IDX files
    in ``mnist_dir``) as N-MNIST files under ``out/NMNIST``; ``load_dataset("nmnist",
    data_dir=out)`` reads them. Returns ``{"train" | "test": (recordings, events)}``.

    Args:
        mnist_dir: the folder of MNIST's four IDX files
            (:func:`~lava_init.training.data.load_idx_images`).
        out: the data folder to record into.
        limit: training digits to record.
        test_limit: test digits to record.

    Returns:
        Per split, the number of recordings and of events written.

    Example:
        >>> import tempfile
        >>> from lava_init.training.data import load_dataset, write_idx
        >>> mnist, out = Path(tempfile.mkdtemp()), tempfile.mkdtemp()
        >>> images = np.zeros((2, 28, 28), dtype=np.uint8)
        >>> images[:, 10:18, 10:18] = 255
        >>> for stem in ("train", "t10k"):
        ...     _ = write_idx(mnist / f"{stem}-images-idx3-ubyte", images)
        ...     _ = write_idx(mnist / f"{stem}-labels-idx1-ubyte", np.array([1, 2]))
        >>> written = record_saccade_nmnist(mnist, out, limit=2, test_limit=1)
        >>> written["train"][0], written["test"][0], written["test"][1] > 0
        (2, 1, True)
        >>> len(load_dataset("nmnist", train=True, data_dir=out, time_steps=4))
        2
    """
    written = {}
    for split, count in (("train", limit), ("test", test_limit)):
        images, labels = load_idx_images("mnist", mnist_dir, train=split == "train")
        folder = Path(out) / "NMNIST" / NMNIST_FOLDERS[split]
        events = record_split(images[:count, 0].numpy(), labels[:count].numpy(), folder)
        written[split] = (min(count, len(images)), events)
    return written
