"""What a run leaves for people and pipelines: the console, report.json, history, metrics."""
