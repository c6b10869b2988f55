"""lava-init."""
