"""What a build is made of, as values: the dependency hash, the source tree, image references,
the VERSION file, the rendered Dockerfile, the stamps of past steps. No engine, no network.
"""
