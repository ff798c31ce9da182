"""Dataset loaders for the real formats in ``../shared/data`` and for users' own files.

- ``load_imdb(path)``: the aclImdb folder or its .tar.xz/.tar.gz archive (streamed).
- ``load_nsmc(path)``: NSMC's ``id\\tdocument\\tlabel`` TSV (``.txt`` or ``.txt.xz``).
- ``load_csv(path, text_column, label_column, delimiter=",")``: any delimited labelled text.
- ``train_test_split(texts, labels, test_fraction=0.2, seed=0)``: deterministic seeded split.

Every loader returns texts as a list of str and labels as an ``int64`` array; malformed input
raises ValueError naming the file and the line.
"""
from .csv import load_csv
from .imdb import load_imdb
from .nsmc import load_nsmc
from .splits import train_test_split
