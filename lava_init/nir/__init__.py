"""NIR (the Neuromorphic Intermediate Representation) in and out of lava-dl SLAYER.

:func:`from_nir` builds a SLAYER network on Loihi's grids from a NIR graph and reports every
rounding; :func:`to_nir` writes a SLAYER network (one ``lava-init train`` made, or
:func:`netx_export.load_netx` read) as a NIR graph. NetX files go through both;
:func:`initialize_nir` gives a graph (from snnTorch, Norse, ...) lava-init's initialization.
"""

from lava_init.nir.discretization import Rounding, RoundingReport
from lava_init.nir.exporter import netx_to_nir, to_nir, write_nir
from lava_init.nir.importer import NirNetwork, from_nir, nir_to_netx
from lava_init.nir.initialize import initialize_nir

__all__ = ["NirNetwork", "Rounding", "RoundingReport", "from_nir", "initialize_nir",
           "netx_to_nir", "nir_to_netx", "to_nir", "write_nir"]
