"""The Invoke surface: the tasks, their collection, the executor that gives a run one config.

Nothing below this layer imports it; it imports everything else.
"""
