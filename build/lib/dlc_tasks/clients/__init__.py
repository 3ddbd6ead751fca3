"""Clients of the outside world: the Docker engine, registries, credentials, trust, retries.

The steps reach the engine and the registry only through these seams, so unit tests
can replace them with fakes.
"""
