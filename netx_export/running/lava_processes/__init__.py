"""Lava processes of netx_export, in a package of their own: Lava's compiler executes every
module in the folder (and package) of a process when it looks for its process models."""
