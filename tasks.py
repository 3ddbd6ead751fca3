"""Invoke entry point: `inv --list` shows the build chain. The tasks live in dlc_tasks."""

from dlc_tasks import namespace

ns = namespace()
