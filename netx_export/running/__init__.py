"""The Lava run machinery of netx_export: how a NetX file runs on Lava and always stops.

``lava_run`` plans a run from the file (its layers, input shape and latency), builds the Lava
network once per process and records every layer; ``workers`` spreads the samples over worker
processes; ``interrupts`` turns signals and stalls into one clean stop of every Lava process;
``voltages`` records membrane voltages; ``lava_processes`` holds the recorder, a Lava process
of its own (Lava's compiler executes every module beside a process when it looks for its
models, so it lives alone). The public names are re-exported by ``netx_export``.
"""
