"""N-MNIST-format event data from MNIST by a simulated saccade camera, for long-T training.

The real N-MNIST cannot be downloaded here, so this script records MNIST digits the way its
camera did, in software (:mod:`lava_init.training.saccades`: three saccades along a triangle, a DVS
pixel model), in the original .bin format (``OUT/NMNIST/Train|Test/<digit>/<n>.bin``), so
training reads them through ``lava_init.training.data`` (tonic's reader, ``ToFrame`` into T bins)
exactly as it reads the real data::

    .venv/bin/python benchmarks/saccade_nmnist.py --out runs/saccade_nmnist
    .venv/bin/python benchmarks/convergence.py --datasets nmnist --data-dir runs/saccade_nmnist \\
        --deep-depth 0 --time-steps 20 ...

These are synthetic recordings, not the real N-MNIST: no sensor noise, no refractory period.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lava_init.training.data import SHARED_DATA
from lava_init.training.saccades import record_saccade_nmnist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", type=Path, default=SHARED_DATA / "mnist",
                        help="folder with the MNIST IDX files (default ../shared/data/mnist)")
    parser.add_argument("--out", type=Path, default=Path("runs/saccade_nmnist"),
                        help="data folder to write (NMNIST/Train, NMNIST/Test inside)")
    parser.add_argument("--limit", type=int, default=3000, help="training digits to record")
    parser.add_argument("--test-limit", type=int, default=1000, help="test digits to record")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = record_saccade_nmnist(args.mnist_dir, args.out, args.limit, args.test_limit)
    for split, (recordings, events) in written.items():
        print(f"{args.out / 'NMNIST'} ({split}): {recordings} recordings, "
              f"{events / max(recordings, 1):.0f} events each on average")
    print(f"recorded in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
