"""Checks that change nothing: ``doctor``, ``check.cache-env``, ``hash --explain``, smoke, lint."""
