"""Validation of the numbers users pass in: one clear ValueError naming the value and the fix.

Pure Python (no numpy, torch or lava-dl), shared by the closed forms, the library and the
command line, so that a bad threshold, rate, decay or count reads the same everywhere.
"""

from __future__ import annotations

import math


def check_threshold(threshold: float, allow_zero: bool = True) -> float:
    """``threshold`` as a float; ValueError unless finite and > 0 (>= 0 with ``allow_zero``).

    Args:
        threshold: the neuron's firing threshold (SLAYER / weight units).
        allow_zero: accept 0 as well (a neuron that fires on any positive input).

    Returns:
        The threshold as a float.

    Example:
        >>> check_threshold(1.25)
        1.25
        >>> check_threshold(0, allow_zero=False)
        Traceback (most recent call last):
        ValueError: threshold must be a finite number > 0 (got 0); ...
    """
    value = float(threshold)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"threshold must be a finite number > 0 (got {threshold!r}); "
            "use the neuron's firing threshold in SLAYER units, e.g. 1.25"
        )
    return value


def check_sigma(sigma: float) -> float:
    """``sigma`` (target membrane std, weight units) as a float; ValueError unless finite > 0.

    Args:
        sigma: the target standard deviation of the membrane potential.

    Returns:
        ``sigma`` as a float.

    Example:
        >>> check_sigma(2)
        2.0
    """
    value = float(sigma)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"sigma must be a finite number > 0 (got {sigma!r}); it is the target standard "
            "deviation of the membrane potential, e.g. sigma=threshold"
        )
    return value


def check_fan_in(fan_in: int, what: str = "fan_in") -> int:
    """``fan_in`` as an int; ValueError unless >= 1.

    Args:
        fan_in: inputs per neuron.
        what: the name the error message gives the value.

    Returns:
        The fan-in as an int.

    Example:
        >>> check_fan_in(784)
        784
    """
    if fan_in < 1:
        raise ValueError(
            f"{what} must be >= 1 (got {fan_in}); a layer with no inputs cannot be initialized"
        )
    return int(fan_in)


def check_rate(rate: float, what: str = "rate") -> float:
    """A spike rate (spikes per neuron per step) strictly inside (0, 1).

    Args:
        rate: the rate to check.
        what: its name in the ValueError raised for a rate outside (0, 1).

    Returns:
        The rate as a float.

    Example:
        >>> check_rate(0.2)
        0.2
    """
    value = float(rate)
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise ValueError(
            f"{what} must be in (0, 1) spikes per neuron per step (got {rate!r}); a rate of 0 "
            "carries no signal and a rate of 1 spikes at every step"
        )
    return value


def _check_below_one(value: float, what: str, meaning: str) -> float:
    """``value`` as a float in [0, 1), or one ValueError naming ``what`` and its ``meaning``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number in [0, 1) (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number < 1.0:
        raise ValueError(f"{what} must be in [0, 1) (got {value!r}); it is {meaning}, "
                         "0 turns it off")
    return number


def check_label_smoothing(amount: float) -> float:
    """A label-smoothing amount in [0, 1): the share of the target spread evenly over all
    classes (0: plain one-hot targets; 1 would leave no label at all).

    Args:
        amount: the share; a bool, a non-number or a value outside [0, 1) raises ValueError.

    Returns:
        ``amount`` as a float.

    Example:
        >>> check_label_smoothing(0.1)
        0.1
    """
    return _check_below_one(amount, "label-smoothing",
                            "the share of the target spread over all classes, e.g. 0.1")


def check_dropout(probability: float, what: str = "dropout") -> float:
    """A dropout probability in [0, 1): 0 turns dropout off, 1 would silence every neuron.

    Args:
        probability: the chance that a hidden neuron is silenced for a training sample.
        what: the option's name, for the error message (default ``"dropout"``).

    Returns:
        The probability as a float.

    Example:
        >>> check_dropout(0)
        0.0
    """
    return _check_below_one(probability, what, "the probability that a hidden neuron is "
                            "silenced for a training sample")


def check_shift(pixels: int) -> int:
    """An augmentation shift: a whole number of pixels >= 0 (0: off).

    Args:
        pixels: the largest shift; ``2.0`` is accepted, ``1.5``, ``-1`` or ``True`` are not.

    Returns:
        The shift as an int.

    Example:
        >>> check_shift(2.0)
        2
    """
    if isinstance(pixels, bool) or not isinstance(pixels, (int, float)) or int(pixels) != pixels \
            or pixels < 0:
        raise ValueError(f"shift must be a whole number of pixels >= 0 (got {pixels!r}); "
                         "0 turns it off")
    return int(pixels)


def check_decay(decay: float, what: str = "decay", allow_zero: bool = True) -> float:
    """A decay (fraction lost per step) in [0, 1], or (0, 1] without ``allow_zero``.

    Args:
        decay: the current or voltage decay, as a fraction of 1 (not SLAYER's 12-bit integer).
        what: which decay, for the error message.
        allow_zero: whether 0 (a state that never forgets) is accepted.

    Returns:
        The decay as a float.

    Example:
        >>> check_decay(0.25, "current_decay")
        0.25
    """
    value = float(decay)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not math.isfinite(value) or not low_ok or value > 1.0:
        interval = "[0, 1]" if allow_zero else "(0, 1] (a decay of 0 never forgets)"
        raise ValueError(
            f"{what} must be in {interval} (got {decay!r}); it is the fraction lost per step, "
            "e.g. 0.25 for the current and 0.03 for the voltage of lava-dl's tutorials"
        )
    return value


def check_count(value: int, what: str) -> int:
    """A count such as ``time_steps`` or ``depth``; ValueError unless an integer >= 1.

    Args:
        value: the count (``3.0`` passes as 3; booleans do not pass).
        what: the count's name in the message.

    Returns:
        ``value`` as an int.

    Example:
        >>> check_count(20, "time_steps")
        20
    """
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{what} must be an integer >= 1 (got {value!r})")
    return int(value)


#: Share of the machine's available memory one allocation may take before it is refused.
MEMORY_SHARE = 0.5


def available_memory() -> int:
    """Bytes of memory the machine can still give (``MemAvailable`` of /proc/meminfo; where
    that cannot be read, physical pages x page size).

    >>> available_memory() > 0
    True
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(count: float) -> str:
    """``count`` bytes in the largest binary unit that keeps it >= 1.

    Args:
        count: a number of bytes (under 1 KiB it is printed as whole bytes).

    Returns:
        The size with three significant digits and its unit (B, KiB, MiB, GiB or TiB).

    Example:
        >>> format_bytes(25.6e9), format_bytes(512)
        ('23.8 GiB', '512 B')
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.3g} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count:.3g} TiB"


def check_allocation(nbytes: float, what: str, fix: str) -> float:
    """Refuse, before allocating, what needs more than :data:`MEMORY_SHARE` of the available
    memory: ValueError naming ``what``, its size, the memory there is and ``fix``.

    Args:
        nbytes: the size the allocation would take, in bytes.
        what: what would be allocated, as the message should name it.
        fix: the advice that ends the message (e.g. fewer samples).

    Returns:
        ``nbytes``, unchanged, when it fits.

    Example:
        >>> check_allocation(1024, "a tiny array", "use fewer samples")
        1024
    """
    available = available_memory()
    if nbytes > MEMORY_SHARE * available:
        raise ValueError(f"{what} needs about {format_bytes(nbytes)}, more than half of the "
                         f"{format_bytes(available)} of memory available; {fix}")
    return nbytes
