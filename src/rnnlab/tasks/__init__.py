"""Task pipelines: ``demo`` (vanilla RNN vs LSTM vs GRU on a memory task) and ``sentiment`` (text classifiers).

A task declares its settings once, as a ``TaskConfig`` dataclass (``rnnlab.tasks.config``), which gives its
Python defaults, its ``rnnlab train`` flags, the settings saved with its models and their checks; its
command-line module plugs into ``rnnlab.cli`` through ``rnnlab.cli.TASKS``. Example::

    from rnnlab.tasks import sentiment
    clf, report = sentiment.train("csv:reviews.csv", model="gru", epochs=5)
"""
