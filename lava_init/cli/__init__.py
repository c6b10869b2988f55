"""The ``lava-init`` command line (layer 6): :mod:`.main` parses, one module per command
(:mod:`.train`, :mod:`.propagate`, :mod:`.demo`, :mod:`.export`, :mod:`.verify`,
:mod:`.inspect`, :mod:`.convert`) imports its work only when it runs, so ``--help`` stays free
of torch and Lava."""
