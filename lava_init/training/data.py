"""Data sets as SLAYER spike tensors: digits, MNIST, Fashion-MNIST, N-MNIST, CIFAR-10 and
MNIST-1D.

Static images are rate encoded (:func:`lava_init.encoding.rate_encode`): at each of T steps a
pixel spikes with probability intensity / max; or, with ``encoding="regular"``
(:func:`lava_init.encoding.regular_encode`), it sends round(T * intensity / max) spikes spread
evenly over the T steps, the same in every epoch; or, with ``encoding="graded"``
(:func:`lava_init.encoding.ramp_encode`), the intensity itself, ramped over the steps
(``intensity * (t + 1) / T`` at step t, on a 1/16 grid). Spikes reach the exported NetX network
on Lava as they are; graded values as integer messages (16 = 1.0) into the first layer, exactly
the input SLAYER trained on (the network's ``input_contract``). Each sample's spikes come from its
own generator, seeded by (seed, epoch, sample index): the same in every run, for any batch size,
number of processes or resumed run. N-MNIST events become T binary frames (tonic's ``ToFrame``;
a pixel spikes in a bin when it has at least one event there).

Samples are ``(spikes, label)``: spikes (C, H, W, T) float 0/1 (graded: multiples of 1/16 in
[0, 1]), or (C*H*W, T) with ``flatten``.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from pathlib import Path

import numpy as np
import torch

from lava_init.checks import check_shift
from lava_init.encoding import ramp_encode, rate_encode, regular_encode
from lava_init.files import atomic_write, check_writable_folder
from lava_init.training.config import DATASETS, ENCODINGS, NUM_CLASSES

#: IDX file stems of MNIST and Fashion-MNIST (each plain or .gz), per split.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: Folder names torchvision downloads into (``ROOT/NAME/raw`` holds the IDX files).
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
NMNIST_FOLDERS = {"train": "Train", "test": "Test"}
#: Fraction of scikit-learn's 1,797 digits used for training (the first ones); the rest test.
DIGITS_TRAIN_FRACTION = 0.8
IDX_UBYTE = 0x08
#: MNIST-1D (Greydanus 2020, the ``mnist1d`` package's standard 4,000 / 1,000 split, generated
#: offline) is cached as this file in the data folder. Each signal (40 samples, std ~1) becomes
#: two channels, its positive and its negative part (ON / OFF, as a DVS sensor's polarities),
#: each divided by ``MNIST1D_SCALE`` and clipped to [0, 1] (1 % of the samples clip).
MNIST1D_FILE = "mnist1d.npz"
MNIST1D_SCALE = 3.0


#: The shared real-data folder beside a source checkout (``../shared/data``), or
#: ``$LAVA_INIT_DATA``: what the tests, benchmarks and tutorials read MNIST and the rest from.
SHARED_DATA = Path(os.environ.get("LAVA_INIT_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))


def default_data_dir(name: str) -> Path:
    """Where downloads go when no folder is given: ``~/.cache/lava-init/NAME``.

    Args:
        name: the data set's name (one of :data:`~lava_init.training.config.DATASETS`).

    Returns:
        The folder (not created).

    Example:
        >>> default_data_dir("mnist") == Path.home() / ".cache" / "lava-init" / "mnist"
        True
    """
    return Path.home() / ".cache" / "lava-init" / name


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's spike generator (deterministic, distinct per epoch and index).

    Args:
        seed: the run's seed.
        epoch: the epoch (each draws new spikes).
        index: the sample's index in the data set.

    Returns:
        A seed in [0, 2**63) for ``torch.Generator.manual_seed``.

    Example:
        >>> sample_seed(0, 0, 5), sample_seed(0, 1, 5) != sample_seed(0, 0, 5)
        (5, True)
    """
    return ((seed * 1_000_003 + epoch) * 2_147_483_647 + index) % (2**63)


class SpikeDataset(torch.utils.data.Dataset):
    """A data set of ``(spikes, label)``; ``set_epoch`` selects the epoch's random encoding."""

    input_shape: tuple[int, ...]
    labels: torch.Tensor

    def __init__(self, time_steps: int, flatten: bool):
        if time_steps < 1:
            raise ValueError(f"time_steps must be >= 1 (got {time_steps})")
        self.time_steps = time_steps
        self.flatten = flatten
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def model_input_shape(self) -> tuple[int, ...]:
        """(features,) with ``flatten``, else (C, H, W)."""
        return (int(np.prod(self.input_shape)),) if self.flatten else self.input_shape

    def _shaped(self, spikes: torch.Tensor) -> torch.Tensor:
        return spikes.flatten(0, -2) if self.flatten else spikes


def shift_image(image: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``image`` (..., H, W) moved ``down`` rows and ``right`` columns (negative: up, left),
    the pixels moved in from outside 0.

    Args:
        image: the image, height and width last.
        down: rows to move down (negative: up).
        right: columns to move right (negative: left).

    Returns:
        A new tensor of ``image``'s shape and dtype (all zero when moved out of the frame).

    Example:
        >>> shift_image(torch.tensor([[1, 2], [3, 4]]), 1, -1).tolist()
        [[0, 0], [2, 0]]
    """
    height, width = image.shape[-2:]
    if abs(down) >= height or abs(right) >= width:
        return torch.zeros_like(image)
    shifted = torch.zeros_like(image)
    rows_to, rows_from = slice(max(down, 0), height + min(down, 0)), slice(
        max(-down, 0), height - max(down, 0))
    cols_to, cols_from = slice(max(right, 0), width + min(right, 0)), slice(
        max(-right, 0), width - max(right, 0))
    shifted[..., rows_to, cols_to] = image[..., rows_from, cols_from]
    return shifted


class RateEncodedImages(SpikeDataset):
    """Static images (N, C, H, W) of integers in [0, max_value], rate encoded per sample
    (``encoding`` one of :data:`~lava_init.training.config.ENCODINGS`).

    Augmentation (for training sets): ``shift`` moves each image by a random whole number of
    pixels in ``[-shift, shift]`` along each axis (along the width only for one-row images, such
    as MNIST-1D's signals, which a vertical move would blank), ``flip`` mirrors it left-right
    with probability 1/2, drawn anew per epoch from the sample's generator."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, max_value: float,
                 time_steps: int, seed: int = 0, flatten: bool = False,
                 encoding: str = "rate", shift: int = 0, flip: bool = False):
        super().__init__(time_steps, flatten)
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; valid: {', '.join(ENCODINGS)}")
        self.encoding = encoding
        self.images = images
        self.labels = labels.long()
        self.max_value = float(max_value)
        self.seed = seed
        self.shift = check_shift(shift)
        self.flip = bool(flip)
        self.input_shape = tuple(images.shape[1:])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        generator = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch, index))
        intensities = self._augmented(self.images[index], generator).float() / self.max_value
        if self.encoding == "regular":
            spikes = regular_encode(intensities, self.time_steps)
        elif self.encoding == "graded":
            spikes = ramp_encode(intensities, self.time_steps)
        else:
            spikes = rate_encode(intensities, self.time_steps, generator)
        return self._shaped(spikes), int(self.labels[index])

    def _augmented(self, image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.shift:
            down, right = torch.randint(-self.shift, self.shift + 1, (2,),
                                        generator=generator).tolist()
            image = shift_image(image, down if image.shape[-2] > 1 else 0, right)
        if self.flip and bool(torch.rand((), generator=generator) < 0.5):
            image = image.flip(-1)
        return image


class NMNISTFrames(SpikeDataset):
    """N-MNIST recordings (original .bin event files) as T binary frames (2, 34, 34, T)."""

    def __init__(self, files: list[Path], labels: list[int], time_steps: int,
                 flatten: bool = False):
        super().__init__(time_steps, flatten)
        import tonic

        self.files = list(files)
        self.labels = torch.tensor(labels, dtype=torch.long)
        width, height, polarities = tonic.datasets.NMNIST.sensor_size
        self.input_shape = (polarities, height, width)
        self.to_frames = tonic.transforms.ToFrame(tonic.datasets.NMNIST.sensor_size,
                                                  n_time_bins=time_steps)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        events = read_nmnist_events(self.files[index])
        if len(events) == 0:
            frames = np.zeros((self.time_steps, *self.input_shape))
        else:
            frames = self.to_frames(events)  # (T, polarity, height, width) event counts
        spikes = torch.from_numpy(np.asarray(frames) > 0).float().permute(1, 2, 3, 0)
        return self._shaped(spikes), int(self.labels[index])


# ---------------------------------------------------------------------------- file formats


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (plain or .gz) of unsigned bytes as an array; ValueError when corrupt.

    Args:
        path: the IDX file (MNIST's format; gzip-compressed when it ends in .gz).

    Returns:
        A uint8 array of the shape the header names.

    Example:
        >>> import tempfile
        >>> path = write_idx(tempfile.mkdtemp() + "/x.gz", np.arange(6).reshape(2, 3))
        >>> read_idx(path).tolist()
        [[0, 1, 2], [3, 4, 5]]
        >>> read_idx(path.with_name("x")) if path.with_name("x").write_bytes(b"junk") else None
        Traceback (most recent call last):
        ValueError: corrupt IDX file ... (no IDX unsigned-byte header); replace it ...
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"corrupt IDX file {path} ({error}); replace it with the original "
                         "download") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE or raw[3] == 0:
        raise ValueError(f"corrupt IDX file {path} (no IDX unsigned-byte header); replace it "
                         "with the original download")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"corrupt IDX file {path} (truncated header); replace it with the "
                         "original download")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"corrupt IDX file {path} (header says {shape} = {int(np.prod(shape))} "
                         f"bytes, file holds {len(raw) - header}); replace it with the original "
                         "download")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzip-compressed when ``path`` ends in .gz).

    Args:
        path: the file to write.
        array: the values, converted to uint8.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> path = write_idx(tempfile.mkdtemp() + "/labels", np.array([7, 2, 1]))
        >>> path.read_bytes()[:8].hex()  # magic 0x00000801 (ubyte, 1 dim), then 3 items
        '0000080100000003'
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, IDX_UBYTE, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    payload = header + array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


class _CifarUnpickler(pickle.Unpickler):
    """Loads CIFAR-10 python batches and nothing else: only numpy arrays may be rebuilt."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a CIFAR-10 batch")
        return super().find_class(module, name)


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A CIFAR-10 python batch file: images (N, 3, 32, 32) uint8 and labels (N,).

    Only numpy arrays are unpickled (anything else is refused); a file that is not a batch
    gives one ValueError line.

    Args:
        path: a batch file of cifar-10-python.tar.gz (``data_batch_1``, ..., ``test_batch``).

    Returns:
        ``(images, labels)``, uint8 and int64 arrays.

    Example:
        >>> import tempfile
        >>> images = np.zeros((2, 3, 32, 32), dtype=np.uint8)
        >>> images, labels = read_cifar_batch(
        ...     write_cifar_batch(tempfile.mkdtemp() + "/test_batch", images, [3, 8]))
        >>> images.shape, labels.tolist()
        ((2, 3, 32, 32), [3, 8])
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            batch = _CifarUnpickler(handle, encoding="bytes").load()
        batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in batch.items()}
        data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, KeyError, ValueError,
            TypeError) as error:
        raise ValueError(f"{path} is not a CIFAR-10 python batch ({error}); use the files of "
                         "cifar-10-python.tar.gz") from None
    if len(labels) != len(data):
        raise ValueError(f"{path} holds {len(data)} images but {len(labels)} labels")
    return data, labels


def write_cifar_batch(path: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write images (N, 3, 32, 32) uint8 and labels as a CIFAR-10 python batch file.

    Args:
        path: the file to write.
        images: the images, (N, 3, 32, 32), converted to uint8.
        labels: N class indices.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> images = np.full((1, 3, 32, 32), 7, dtype=np.uint8)
        >>> path = write_cifar_batch(tempfile.mkdtemp() + "/data_batch_1", images, [5])
        >>> int(read_cifar_batch(path)[0].max())
        7
    """
    batch = {
        b"batch_label": b"written by lava_init",
        b"labels": [int(label) for label in labels],
        b"data": np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1),
        b"filenames": [f"image_{i}.png".encode() for i in range(len(images))],
    }
    path = Path(path)
    with path.open("wb") as handle:
        pickle.dump(batch, handle, protocol=2)
    return path


def read_nmnist_events(path: str | Path) -> np.ndarray:
    """Events (x, y, t, p) of one N-MNIST .bin file (40 bits per event), read by tonic.

    Args:
        path: a .bin file of the N-MNIST archives; ValueError when its size is not a whole
            number of 5-byte events.

    Returns:
        A structured array with fields ``x``, ``y``, ``t`` (microseconds) and ``p``.

    Example:
        >>> import tempfile
        >>> path = write_nmnist_events(tempfile.mkdtemp() + "/0.bin", [3, 4], [5, 6], [10, 300],
        ...                            [1, 0])
        >>> events = read_nmnist_events(path)
        >>> events["x"].tolist(), events["t"].tolist(), events["p"].tolist()
        ([3, 4], [10, 300], [1, 0])
    """
    from tonic.datasets import NMNIST
    from tonic.io import read_mnist_file

    path = Path(path)
    size = path.stat().st_size
    if size % 5:
        raise ValueError(f"corrupt N-MNIST file {path} ({size} bytes, not whole 5-byte events)")
    return read_mnist_file(str(path), dtype=NMNIST.dtype)


def write_nmnist_events(path: str | Path, x, y, t, p) -> Path:
    """Write events in the original N-MNIST format: x, y, then polarity bit + 23-bit time (us),
    atomically (temp file, then rename).

    Args:
        path: the .bin file to write.
        x: the events' columns.
        y: the events' rows.
        t: their times in microseconds, in [0, 2**23).
        p: their polarities, 0 or 1.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> path = write_nmnist_events(tempfile.mkdtemp() + "/0.bin", [1], [2], [256], [1])
        >>> path.read_bytes().hex()  # 5 bytes per event
        '0102800100'
    """
    x, y, t, p = (np.asarray(v, dtype=np.int64) for v in (x, y, t, p))
    if t.size and (t.min() < 0 or t.max() >= 2**23):
        raise ValueError("N-MNIST time stamps must lie in [0, 2**23) microseconds")
    events = np.stack([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF], axis=1)
    payload = events.astype(np.uint8).tobytes()
    return atomic_write(path, lambda temp: Path(temp).write_bytes(payload))


# ------------------------------------------------------------------------------ loaders


def _find_first(folders: list[Path], names: tuple[str, ...]) -> list[Path] | None:
    """The files ``names`` (each plain or .gz) from the first folder holding all of them."""
    for folder in folders:
        found = []
        for name in names:
            candidates = [folder / name, folder / f"{name}.gz"]
            existing = [c for c in candidates if c.is_file()]
            if not existing:
                break
            found.append(existing[0])
        else:
            return found
    return None


def _missing_data_error(name: str, data_dir: Path | None, needs: str, extra: str) -> Exception:
    where = f"in {data_dir}" if data_dir is not None else "(no --data-dir given)"
    message = (f"no {name} data {where}: put {needs} there (--data-dir DIR), or pass --download "
               f"to fetch it with {extra} (needs internet)")
    if data_dir is not None and not data_dir.is_dir():
        return FileNotFoundError(f"data folder {data_dir} does not exist; " + message)
    return FileNotFoundError(message)


def _torchvision_download(name: str, root: Path, train: bool):
    try:
        import torchvision
    except ImportError:
        raise ValueError(f"downloading {name} needs torchvision: pip install 'lava-init[vision]'"
                         ) from None
    classes = {"mnist": torchvision.datasets.MNIST,
               "fashion-mnist": torchvision.datasets.FashionMNIST,
               "cifar10": torchvision.datasets.CIFAR10}
    try:
        classes[name](str(root), train=train, download=True)
    except Exception as error:  # network, HTTP or checksum errors: one line naming both ways
        raise ValueError(f"could not download {name} with torchvision into {root} ({error}); "
                         "without internet, put the files in a folder and pass --data-dir"
                         ) from None


def load_idx_images(name: str, data_dir: str | Path | None, train: bool,
                    download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST or Fashion-MNIST images (N, 1, 28, 28) uint8 and labels from the four IDX files.

    Looks in ``data_dir``, ``data_dir/NAME`` and torchvision's ``data_dir/MNIST/raw``; with
    ``download`` fetches them with torchvision first when absent.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        data_dir: the folder of the IDX files (None: none given; only a download can help).
        train: the training split, else the test split.
        download: fetch the files with torchvision when they are not there.

    Returns:
        ``(images, labels)``: uint8 (N, 1, H, W) and int64 (N,); FileNotFoundError naming the
        files and both ways to get them when they are missing.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28)))
        >>> _ = write_idx(folder / "t10k-labels-idx1-ubyte", np.array([4, 0, 9]))
        >>> images, labels = load_idx_images("mnist", folder, train=False)
        >>> tuple(images.shape), labels.tolist()
        ((3, 1, 28, 28), [4, 0, 9])
    """
    data_dir = Path(data_dir) if data_dir is not None else None
    split = "train" if train else "test"
    names = IDX_FILES[split]

    def search() -> list[Path] | None:
        if data_dir is None:
            return None
        folders = [data_dir, data_dir / name, data_dir / TORCHVISION_FOLDERS[name] / "raw"]
        return _find_first(folders, names)

    files = search()
    if files is None and download:
        data_dir = data_dir or default_data_dir(name)
        _torchvision_download(name, data_dir, train)
        files = search()
    if files is None:
        raise _missing_data_error(name, data_dir, "the IDX files " + ", ".join(
            f"{n}[.gz]" for n in names), "torchvision")
    images, labels = (read_idx(f) for f in files)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"corrupt IDX files {files[0]} / {files[1]} (images {images.shape}, "
                         f"labels {labels.shape}); replace them with the original download")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def load_cifar10(data_dir: str | Path | None, train: bool,
                 download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 images (N, 3, 32, 32) uint8 and labels from the python batch files.

    Looks in ``data_dir`` and ``data_dir/cifar-10-batches-py``; with ``download`` fetches
    them with torchvision first when absent.

    Args:
        data_dir: the folder of the batch files (None: none given).
        train: the five training batches, else ``test_batch``.
        download: fetch the files with torchvision when they are not there.

    Returns:
        ``(images, labels)``: uint8 (N, 3, 32, 32) and int64 (N,); FileNotFoundError when
        the files are missing.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_cifar_batch(folder / "test_batch", np.zeros((2, 3, 32, 32)), [1, 2])
        >>> images, labels = load_cifar10(folder, train=False)
        >>> tuple(images.shape), labels.tolist()
        ((2, 3, 32, 32), [1, 2])
    """
    data_dir = Path(data_dir) if data_dir is not None else None
    names = CIFAR_FILES["train" if train else "test"]

    def search() -> list[Path] | None:
        if data_dir is None:
            return None
        for folder in (data_dir, data_dir / CIFAR_FOLDER):
            if all((folder / n).is_file() for n in names):
                return [folder / n for n in names]
        return None

    files = search()
    if files is None and download:
        data_dir = data_dir or default_data_dir("cifar10")
        _torchvision_download("cifar10", data_dir, train)
        files = search()
    if files is None:
        raise _missing_data_error("cifar10", data_dir, f"the python batches {', '.join(names)} "
                                  f"(from {CIFAR_FOLDER})", "torchvision")
    batches = [read_cifar_batch(f) for f in files]
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    return torch.from_numpy(images), torch.from_numpy(labels)


def mnist1d_images(signals: np.ndarray) -> torch.Tensor:
    """MNIST-1D signals (N, length) as ON / OFF images (N, 2, 1, length) in [0, 1].

    Args:
        signals: the signals, (N, length).

    Returns:
        A float tensor: channel 0 the positive part, channel 1 the negative part, each over
        :data:`MNIST1D_SCALE` and clipped to [0, 1].

    Example:
        >>> mnist1d_images(np.array([[1.5, -6.0, 0.75]])).tolist()
        [[[[0.5, 0.0, 0.25]], [[0.0, 1.0, 0.0]]]]
    """
    signals = torch.as_tensor(signals, dtype=torch.float32) / MNIST1D_SCALE
    return torch.stack([signals.clamp(0, 1), (0.0 - signals).clamp(0, 1)], dim=1).unsqueeze(2)


def _save_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_mnist1d(data_dir: str | Path | None, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-1D's standard split as ON / OFF images (:func:`mnist1d_images`) and labels.

    Generated once with the ``mnist1d`` package (offline, its default arguments, seed 42) and
    cached atomically as ``DATA_DIR/mnist1d.npz`` (default folder:
    :func:`default_data_dir`); a folder that cannot hold it gives one ValueError line.

    Args:
        data_dir: the folder of the cache.
        train: the 4,000 training signals, else the 1,000 test signals.

    Returns:
        images (N, 2, 1, 40) float in [0, 1] and labels (N,) int64.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())  # a small cache in place of the generated one
        >>> np.savez(folder / MNIST1D_FILE, x=np.zeros((4, 40)), y=np.arange(4),
        ...          x_test=np.full((2, 40), -3.0), y_test=np.array([7, 1]))
        >>> images, labels = load_mnist1d(folder, train=False)
        >>> tuple(images.shape), images[:, 1].min().item(), labels.tolist()
        ((2, 2, 1, 40), 1.0, [7, 1])
    """
    path = Path(data_dir or default_data_dir("mnist1d")) / MNIST1D_FILE
    if not path.is_file():
        check_writable_folder(path.parent, "--data-dir")
        from mnist1d.data import get_dataset_args, make_dataset

        data = make_dataset(get_dataset_args())
        arrays = {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}
        atomic_write(path, lambda temp: _save_npz(temp, arrays))
    try:
        with np.load(path) as stored:
            signals, labels = (stored[k] for k in (("x", "y") if train else ("x_test", "y_test")))
    except (OSError, ValueError, KeyError, EOFError, zlib.error) as error:
        raise ValueError(f"corrupt MNIST-1D cache {path} ({error}); delete it to generate it "
                         "anew") from None
    return mnist1d_images(signals), torch.from_numpy(labels.astype(np.int64))


def load_digits_images(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits (N, 1, 8, 8), intensities 0..16; first 80% train, rest test.

    Args:
        train: the first 80 % of the 1,797 digits, else the rest.

    Returns:
        ``(images, labels)``: uint8 (N, 1, 8, 8) and int64 (N,).

    Example:
        >>> images, labels = load_digits_images(train=False)
        >>> tuple(images.shape), int(images.max()), labels[:5].tolist()
        ((360, 1, 8, 8), 16, [2, 3, 4, 5, 6])
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    split = int(len(digits.target) * DIGITS_TRAIN_FRACTION)
    part = slice(0, split) if train else slice(split, None)
    images = torch.tensor(digits.images[part], dtype=torch.uint8).unsqueeze(1)
    return images, torch.tensor(digits.target[part], dtype=torch.long)


def digits_spikes(samples: int, time_steps: int, seed: int) -> torch.Tensor:
    """The first ``samples`` scikit-learn digits (8x8, intensities / 16) as Bernoulli spikes,
    shape (samples, 64, time_steps).

    Args:
        samples: how many digits, from the first.
        time_steps: T, the steps per sample.
        seed: the Bernoulli draws' seed.

    Returns:
        A float tensor of 0/1, (samples, 64, time_steps).

    Example:
        >>> spikes = digits_spikes(8, 5, seed=0)
        >>> tuple(spikes.shape), set(spikes.unique().tolist()) <= {0.0, 1.0}
        ((8, 64, 5), True)
        >>> torch.equal(spikes, digits_spikes(8, 5, seed=0))
        True
    """
    from sklearn.datasets import load_digits

    images = load_digits().data[:samples] / 16.0
    generator = torch.Generator().manual_seed(seed)
    return rate_encode(torch.tensor(images, dtype=torch.float32), time_steps, generator)


def nmnist_files(data_dir: str | Path | None, train: bool,
                 download: bool = False) -> tuple[list[Path], list[int]]:
    """N-MNIST .bin files and labels from ``DIR/{Train,Test}/<digit>/*.bin`` (the original
    archives unpacked, also tonic's ``DIR/NMNIST/...``), or tonic's download. The order
    interleaves the classes, so ``limit`` keeps them balanced.

    Args:
        data_dir: the folder holding ``Train`` / ``Test`` (None: none given).
        train: the ``Train`` folder, else ``Test``.
        download: fetch the archives with tonic when they are not there.

    Returns:
        ``(files, labels)``: the paths and their digits, class by class in turn;
        FileNotFoundError when there are none.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for digit, count in ((0, 2), (1, 1)):
        ...     for i in range(count):
        ...         _ = (folder / "Test" / str(digit)).mkdir(parents=True, exist_ok=True)
        ...         _ = write_nmnist_events(folder / f"Test/{digit}/{i}.bin", [1], [1], [0], [1])
        >>> files, labels = nmnist_files(folder, train=False)
        >>> [f.name for f in files], labels
        (['0.bin', '0.bin', '1.bin'], [0, 1, 0])
    """
    data_dir = Path(data_dir) if data_dir is not None else None
    split_folder = NMNIST_FOLDERS["train" if train else "test"]

    def search() -> list[list[Path]] | None:
        if data_dir is None:
            return None
        for folder in (data_dir / split_folder, data_dir / "NMNIST" / split_folder):
            per_class = [sorted((folder / str(d)).glob("*.bin")) for d in range(NUM_CLASSES)]
            if any(per_class):
                return per_class
        return None

    per_class = search()
    if per_class is None and download:
        import tonic

        data_dir = data_dir or default_data_dir("nmnist")
        try:
            tonic.datasets.NMNIST(str(data_dir), train=train)
        except Exception as error:  # network, HTTP or checksum errors: one line naming both ways
            raise ValueError(f"could not download nmnist with tonic into {data_dir} ({error}); "
                             "without internet, unpack Train.zip / Test.zip there and pass "
                             "--data-dir") from None
        per_class = search()
    if per_class is None:
        raise _missing_data_error("nmnist", data_dir, f"the unpacked N-MNIST folder "
                                  f"{split_folder}/0..9/*.bin", "tonic")
    files, labels = [], []
    for rank in range(max(len(c) for c in per_class)):
        for label, class_files in enumerate(per_class):
            if rank < len(class_files):
                files.append(class_files[rank])
                labels.append(label)
    return files, labels


def load_dataset(
    name: str,
    train: bool = True,
    data_dir: str | Path | None = None,
    time_steps: int = 3,
    seed: int = 0,
    flatten: bool = False,
    limit: int | None = None,
    download: bool = False,
    encoding: str = "rate",
    shift: int = 0,
    flip: bool = False,
) -> SpikeDataset:
    """The ``train`` or test split of data set ``name`` as spikes over ``time_steps`` steps.

    Static images are read by :func:`load_digits_images`, :func:`load_idx_images`,
    :func:`load_cifar10` or :func:`load_mnist1d` and encoded per sample
    (:class:`RateEncodedImages`); N-MNIST recordings become binary frames
    (:class:`NMNISTFrames`).

    Args:
        name: one of :data:`~lava_init.training.config.DATASETS`.
        train: the training split, else the test split.
        data_dir: the folder of the data files (not needed for ``digits``).
        time_steps: T, the steps per sample.
        seed: the rate encoding's seed.
        flatten: samples (C*H*W, T) for an MLP, else (C, H, W, T).
        limit: keep the first ``limit`` samples (None: all).
        download: fetch missing files (MNIST, Fashion-MNIST, CIFAR-10 with torchvision,
            N-MNIST with tonic).
        encoding: how static images become spikes
            (:data:`~lava_init.training.config.ENCODINGS`; N-MNIST recordings are events
            already and ignore it).
        shift: augment the images, moved by up to ``shift`` pixels (not N-MNIST's events).
        flip: augment the images, mirrored left-right at random (not N-MNIST's events).

    Returns:
        A :class:`SpikeDataset` of ``(spikes, label)``.

    Example:
        >>> data = load_dataset("digits", train=False, time_steps=4, flatten=True, limit=8,
        ...                     encoding="regular")
        >>> spikes, label = data[0]
        >>> len(data), tuple(spikes.shape), label, data.model_input_shape
        (8, (64, 4), 2, (64,))
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 samples (got {limit})")
    if name == "nmnist":
        if shift or flip:
            raise ValueError("shift and flip augment static images; N-MNIST recordings are "
                             "events: train it with --shift 0 and without --flip")
        files, labels = nmnist_files(data_dir, train, download)
        return NMNISTFrames(files[:limit], labels[:limit], time_steps, flatten)
    if name == "digits":
        images, labels = load_digits_images(train)
        max_value = 16.0
    elif name == "cifar10":
        images, labels = load_cifar10(data_dir, train, download)
        max_value = 255.0
    elif name == "mnist1d":
        images, labels = load_mnist1d(data_dir, train)
        max_value = 1.0
    else:
        images, labels = load_idx_images(name, data_dir, train, download)
        max_value = 255.0
    return RateEncodedImages(images[:limit], labels[:limit], max_value, time_steps, seed, flatten,
                             encoding, shift, flip)

