"""Task pipelines (demo, sentiment, ...). Each task module plugs into the CLI through ``rnnlab.cli.TASKS``."""
