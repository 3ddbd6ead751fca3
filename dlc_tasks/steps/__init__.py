"""The build chain as steps: hash, cache, generate, test, prod, push and dev.

Each step knows its inputs, its up-to-date check, what it would do and how to do it;
the chain, ``--dry-run``, ``inv ci`` and ``check.cache-env`` iterate the same steps.
"""
