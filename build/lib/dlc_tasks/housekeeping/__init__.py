"""Tasks around the chain: base images for this machine, cache pruning, CI workflow files."""
