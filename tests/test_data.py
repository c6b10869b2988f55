"""Data paths on real data (../shared/data) and on small files in the real on-disk formats."""

from __future__ import annotations

import gzip
import pickle
import shutil

import numpy as np
import pytest
import torch

from lava_init.encoding import GRADED_LEVELS, ramp_encode, regular_encode
from lava_init.training.data import (
    CIFAR_FOLDER,
    IDX_FILES,
    load_dataset,
    read_cifar_batch,
    read_idx,
    read_nmnist_events,
    shift_image,
    write_cifar_batch,
    write_idx,
    write_nmnist_events,
)

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

MNIST_FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9]
MNIST_FIRST_TEST_LABELS = [7, 2, 1, 0, 4]
FASHION_FIRST_TRAIN_LABELS = [9, 0, 0, 3, 0]


def test_digits_split_shapes_and_binary_spikes():
    train, test = load_dataset("digits", True), load_dataset("digits", False, time_steps=5)
    assert (len(train), len(test)) == (1437, 360)
    spikes, label = test[0]
    assert spikes.shape == (1, 8, 8, 5) and 0 <= label < 10
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    flat = load_dataset("digits", False, time_steps=5, flatten=True)
    assert flat[0][0].shape == (64, 5) and torch.equal(flat[0][0], spikes.flatten(0, -2))


def test_rate_encoding_is_seeded_per_sample_and_epoch():
    data = load_dataset("digits", True, time_steps=4, seed=3)
    first = data[7][0]
    assert torch.equal(first, load_dataset("digits", True, time_steps=4, seed=3)[7][0])
    data.set_epoch(1)
    assert not torch.equal(first, data[7][0])
    assert not torch.equal(first, load_dataset("digits", True, time_steps=4, seed=4)[7][0])


def test_rate_follows_intensity():
    from sklearn.datasets import load_digits

    data = load_dataset("digits", True, time_steps=200, limit=20)
    intensities = torch.tensor(load_digits().images[:20] / 16.0, dtype=torch.float32)
    rates = torch.stack([data[i][0] for i in range(20)]).mean(-1).squeeze(1)
    assert (rates - intensities).abs().max() < 0.15
    assert abs(float(rates.mean() - intensities.mean())) < 0.01


def test_regular_encoding_sends_the_rounded_count_evenly_and_the_same_every_epoch():
    from sklearn.datasets import load_digits

    data = load_dataset("digits", True, time_steps=3, limit=20, encoding="regular")
    first = data[5][0]
    data.set_epoch(1)
    assert torch.equal(first, data[5][0])
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    intensities = torch.tensor(load_digits().images[:20] / 16.0, dtype=torch.float32)
    counts = torch.stack([data[i][0] for i in range(20)]).sum(-1).squeeze(1)
    assert torch.equal(counts, torch.floor(intensities * 3 + 0.5))
    # 2 spikes in 4 steps alternate; 1 in 4 sits in the middle, not at the start
    assert regular_encode(torch.tensor([0.5, 0.25]), 4).tolist() == [[1, 0, 1, 0],
                                                                       [0, 1, 0, 0]]
    with pytest.raises(ValueError, match="unknown encoding 'poisson'; valid: rate, regular, "
                                         "graded"):
        load_dataset("digits", True, limit=2, encoding="poisson")
    with pytest.raises(ValueError, match="regular_encode needs intensities in"):
        regular_encode(torch.tensor([1.5]), 3)


def test_graded_encoding_ramps_the_intensity_over_the_steps_on_the_1_64_grid():
    from sklearn.datasets import load_digits

    data = load_dataset("digits", True, time_steps=3, limit=20, encoding="graded")
    values = torch.stack([data[i][0] for i in range(20)]).reshape(20, 64, 3)
    intensities = torch.tensor(load_digits().images[:20].reshape(20, -1) / 16.0,
                               dtype=torch.float32)
    messages = values * GRADED_LEVELS
    assert torch.equal(messages, messages.round())  # on the grid: Lava gets integers
    for step in range(3):  # step t carries intensity * (t + 1) / T, within half a level
        expected = intensities * (step + 1) / 3
        assert (values[..., step] - expected).abs().max() <= 0.5 / GRADED_LEVELS
    assert torch.equal(values[..., 2], intensities.mul(GRADED_LEVELS).round() / GRADED_LEVELS)
    assert len(values.unique()) > 10  # graded, not spikes
    with pytest.raises(ValueError, match="ramp_encode needs intensities in"):
        ramp_encode(torch.tensor([-0.1]), 3)


def test_shift_and_flip_augment_each_epoch_anew_and_keep_the_picture():
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images[:50] / 16.0, dtype=torch.float32)
    plain = load_dataset("digits", True, time_steps=3, limit=50, encoding="regular")
    moved = load_dataset("digits", True, time_steps=3, limit=50, encoding="regular", shift=1,
                         flip=True)
    first = torch.stack([moved[i][0] for i in range(50)])
    assert torch.equal(first, torch.stack([moved[i][0] for i in range(50)]))  # seeded
    moved.set_epoch(1)
    second = torch.stack([moved[i][0] for i in range(50)])
    assert not torch.equal(first, second)
    counts = torch.stack([plain[i][0] for i in range(50)]).sum(-1).squeeze(1)
    for sample in (first, second):
        sample_counts = sample.sum(-1).squeeze(1)
        matches = [any(torch.equal(sample_counts[i], shift_image(view, down, right))
                       for view in (counts[i], counts[i].flip(-1))
                       for down in (-1, 0, 1) for right in (-1, 0, 1)) for i in range(50)]
        assert all(matches)  # each sample is its picture, moved by <= 1 pixel or mirrored
    assert torch.equal(counts, torch.floor(images * 3 + 0.5))  # no augmentation: unchanged
    assert shift_image(torch.ones(3, 3), 3, 0).sum() == 0
    with pytest.raises(ValueError, match="shift must be a whole number of pixels >= 0"):
        load_dataset("digits", True, limit=2, shift=-1)
    with pytest.raises(ValueError, match="N-MNIST recordings are events"):
        load_dataset("nmnist", True, shift=2)


def test_mnist_from_shared_idx_files(shared_data):
    train = load_dataset("mnist", True, shared_data / "mnist", flatten=True)
    test = load_dataset("mnist", False, shared_data)  # finds the mnist/ subfolder itself
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.labels[:5].tolist() == MNIST_FIRST_TRAIN_LABELS
    assert test.labels[:5].tolist() == MNIST_FIRST_TEST_LABELS
    assert train[0][0].shape == (784, 3) and test[0][0].shape == (1, 28, 28, 3)
    assert 0.05 < float(train[0][0].mean()) < 0.3


def test_fashion_mnist_from_shared_idx_files(shared_data):
    train = load_dataset("fashion-mnist", True, shared_data, limit=500)
    assert len(train) == 500
    assert train.labels[:5].tolist() == FASHION_FIRST_TRAIN_LABELS
    assert len(load_dataset("fashion-mnist", False, shared_data)) == 10_000


@pytest.mark.parametrize("compressed", [False, True])
def test_idx_files_written_here_plain_and_gz(tmp_path, shared_data, compressed):
    images = read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")[:30]
    labels = read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")[:30]
    suffix = ".gz" if compressed else ""
    for split in ("train", "test"):
        image_name, label_name = IDX_FILES[split]
        write_idx(tmp_path / f"{image_name}{suffix}", images)
        write_idx(tmp_path / f"{label_name}{suffix}", labels)
    data = load_dataset("mnist", False, tmp_path)
    assert torch.equal(data.images.squeeze(1), torch.from_numpy(images.copy()))
    assert data.labels.tolist() == labels.tolist()


def test_torchvision_folder_layout_is_found(tmp_path, shared_data):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in IDX_FILES["test"]:
        shutil.copy(shared_data / "mnist" / f"{name}.gz", raw / f"{name}.gz")
    assert len(load_dataset("mnist", False, tmp_path)) == 10_000


def _mnist_files(folder, images, labels):
    for split in ("train", "test"):
        image_name, label_name = IDX_FILES[split]
        write_idx(folder / image_name, images)
        write_idx(folder / label_name, labels)


@pytest.mark.parametrize("damage", ["truncated", "bad_header", "broken_gzip", "count_mismatch"])
def test_corrupt_idx_file_gives_clear_error(tmp_path, damage):
    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    labels = np.arange(4, dtype=np.uint8)
    _mnist_files(tmp_path, images, labels)
    target = tmp_path / IDX_FILES["test"][0]
    raw = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(raw[:-100])
    elif damage == "bad_header":
        target.write_bytes(b"\x12\x34" + raw[2:])
    elif damage == "broken_gzip":
        target.unlink()
        (tmp_path / f"{target.name}.gz").write_bytes(gzip.compress(raw)[:50])
    else:
        write_idx(tmp_path / IDX_FILES["test"][1], np.arange(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="corrupt IDX file"):
        load_dataset("mnist", False, tmp_path)


def test_missing_folder_names_both_ways(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*--data-dir.*--download"):
        load_dataset("mnist", True, tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no fashion-mnist data in .*--download"):
        load_dataset("fashion-mnist", True, tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        load_dataset("svhn")


def _write_nmnist_folder(root):
    """Two recordings per digit and split, in the original layout: Train/<digit>/<id>.bin.

    Recording of digit d (an N-MNIST recording lasts about 300 ms): an ON event at pixel
    (x=d, y=2d) at 1 ms, an ON event at (3, 3) at 150 ms, OFF events at (33-d, 5) at 250 and
    301 ms. Three time bins are then [1, 101), [101, 201), [201, 301] ms.
    """
    for split in ("Train", "Test"):
        for digit in range(10):
            folder = root / split / str(digit)
            folder.mkdir(parents=True)
            for copy in range(2):
                write_nmnist_events(folder / f"{digit:02d}{copy:03d}.bin",
                                    x=[digit, 3, 33 - digit, 33 - digit],
                                    y=[2 * digit, 3, 5, 5], t=[1_000, 150_000, 250_000, 301_000],
                                    p=[1, 1, 0, 0])


def test_nmnist_events_round_trip_through_tonic_reader(tmp_path):
    path = write_nmnist_events(tmp_path / "00001.bin", x=[1, 33, 0], y=[2, 0, 33],
                               t=[5, 70_000, 8_000_000], p=[0, 1, 1])
    events = read_nmnist_events(path)
    assert events["x"].tolist() == [1, 33, 0] and events["y"].tolist() == [2, 0, 33]
    assert events["t"].tolist() == [5, 70_000, 8_000_000] and events["p"].tolist() == [0, 1, 1]


def test_nmnist_folder_to_binary_frames(tmp_path):
    _write_nmnist_folder(tmp_path)
    train = load_dataset("nmnist", True, tmp_path, time_steps=3)
    assert len(train) == 20 and train.input_shape == (2, 34, 34)
    assert train.labels[:12].tolist() == [*range(10), 0, 1]  # classes interleaved
    for index in (0, 7):
        spikes, digit = train[index]
        assert spikes.shape == (2, 34, 34, 3)
        expected = torch.zeros(2, 34, 34, 3)
        expected[1, 2 * digit, digit, 0] = 1  # ON, first time bin
        expected[1, 3, 3, 1] = 1
        expected[0, 5, 33 - digit, 2] = 1  # OFF, last time bin
        assert torch.equal(spikes, expected)
    test = load_dataset("nmnist", False, tmp_path, time_steps=3, flatten=True, limit=4)
    assert len(test) == 4 and test[0][0].shape == (2 * 34 * 34, 3)


def test_nmnist_corrupt_and_missing(tmp_path):
    _write_nmnist_folder(tmp_path)
    (tmp_path / "Train" / "0" / "00000.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="corrupt N-MNIST file"):
        load_dataset("nmnist", True, tmp_path)[0]
    with pytest.raises(FileNotFoundError, match="Test/0..9/.*--download.*tonic"):
        load_dataset("nmnist", False, tmp_path / "elsewhere")


def _real_cifar_images(shared_data):
    sample = np.load(shared_data / "cifar10-sample" / "cifar10_test_first20.npz")
    return sample["images"].transpose(0, 3, 1, 2), sample["labels"]


def test_cifar10_python_batches_from_the_20_real_images(tmp_path, shared_data):
    images, labels = _real_cifar_images(shared_data)
    folder = tmp_path / CIFAR_FOLDER
    folder.mkdir()
    write_cifar_batch(folder / "test_batch", images, labels)
    for batch in range(5):
        part = slice(4 * batch, 4 * batch + 4)
        write_cifar_batch(folder / f"data_batch_{batch + 1}", images[part], labels[part])
    test = load_dataset("cifar10", False, tmp_path)
    train = load_dataset("cifar10", True, folder, time_steps=2)
    for data in (test, train):
        assert torch.equal(data.images, torch.from_numpy(images))
        assert data.labels.tolist() == labels.tolist()
    assert train[0][0].shape == (3, 32, 32, 2)


def test_cifar10_batch_as_python2_cpickle_wrote_it(tmp_path, shared_data):
    """The original files: str keys written by Python 2 read back as bytes keys."""
    images, labels = _real_cifar_images(shared_data)
    batch = {"batch_label": "testing batch 1 of 1", "labels": labels.tolist(),
             "data": images.reshape(20, -1), "filenames": ["a.png"] * 20}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    read_images, read_labels = read_cifar_batch(tmp_path / "test_batch")
    assert np.array_equal(read_images, images) and read_labels.tolist() == labels.tolist()


def test_cifar10_refuses_foreign_pickles_and_missing_files(tmp_path):
    (tmp_path / "test_batch").write_bytes(pickle.dumps({"data": shutil.rmtree}))
    with pytest.raises(ValueError, match="not a CIFAR-10 python batch"):
        load_dataset("cifar10", False, tmp_path)
    with pytest.raises(FileNotFoundError, match="data_batch_1.*--download.*torchvision"):
        load_dataset("cifar10", True, tmp_path)
