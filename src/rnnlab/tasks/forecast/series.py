"""A time series read from a CSV file: a date column and numeric columns, checked row by row.

Rules (each broken rule is a ValueError naming the file, the column and the line):

- a header row names the columns; the date column holds ISO dates (``1749-01``, ``2017-11-10``,
  ``2017-11-10 09:30``), strictly increasing (no duplicates, no unsorted rows), none missing;
- every value column holds numbers (``nan``/``inf`` and empty cells are refused: impute them first);
- no gaps: monthly data must have every month; daily data may skip up to ``max_gap`` days (default 7,
  for weekends and holidays of a trading calendar); any other spacing must be regular.

Example::

    from rnnlab.tasks.forecast.series import read_csv
    s = read_csv("../shared/data/timeseries/monthly-sunspots.csv.xz", columns=["Sunspots"])
    s.values.shape, s.freq        # (2820, 1), 'M'
"""
import csv
import math
from typing import NamedTuple

import numpy as np

from ...datasets._io import check_path, decode_utf8, read_bytes, split_lines

DAILY_MAX_GAP = 7


class Series(NamedTuple):
    """dates: (T,) datetime64; values: (T, C) float64; columns: the C names; path: where it came from;
    freq: 'M' monthly, 'D' daily, or the numpy unit of a regular spacing ('Y', 'h', ...)."""
    dates: np.ndarray
    values: np.ndarray
    columns: tuple
    path: str
    freq: str

    def column(self, name):
        """(T,) values of one column."""
        return self.values[:, self.index(name)]

    def index(self, name):
        if name not in self.columns:
            raise ValueError(f"{self.path}: no column {name!r}; the series has {list(self.columns)}.")
        return self.columns.index(name)


def _find(header, name, path):
    if name in header:
        return header.index(name)
    raise ValueError(f"{path}: no column named {name!r}; the header has {header}. Pass one of those (names are "
                     "case-sensitive).")


def _parse_date(text, path, line, name):
    text = text.strip()
    if not text:
        raise ValueError(f"{path}, line {line}, column {name!r}: the date is missing. Every row needs a date.")
    try:
        return np.datetime64(text.replace(" ", "T"))
    except ValueError:
        raise ValueError(f"{path}, line {line}, column {name!r}: {text!r} is not an ISO date (expected e.g. "
                         "'1949-01' or '2017-11-10').") from None


def _parse_value(text, path, line, name):
    try:
        v = float(text)
    except ValueError:
        what = "is empty" if not text.strip() else f"is {text!r}, not a number"
        raise ValueError(f"{path}, line {line}, column {name!r}: the value {what}. Fill or remove that row.") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}, line {line}, column {name!r}: the value is {text!r}; expected a finite number. "
                         "Impute missing values before training.")
    return v


def _check_spacing(dates, lines, path, name, max_gap):
    """The frequency letter, or ValueError at the first duplicate, unsorted row or gap."""
    unit = np.datetime_data(dates.dtype)[0]
    steps = np.diff(dates.astype("int64"))
    for i in np.flatnonzero(steps <= 0)[:1]:
        kind = "repeats" if steps[i] == 0 else "comes before"
        raise ValueError(f"{path}, line {lines[i + 1]}, column {name!r}: date {dates[i + 1]} {kind} the previous "
                         f"row's {dates[i]}; dates must be strictly increasing (sort the file, drop duplicates).")
    if len(steps) == 0:
        return unit
    if unit == "D":
        limit = DAILY_MAX_GAP if max_gap is None else max_gap
    else:
        limit = (1 if unit in ("M", "Y", "W") else int(np.median(steps))) if max_gap is None else max_gap
    for i in np.flatnonzero(steps > limit)[:1]:
        raise ValueError(f"{path}, line {lines[i + 1]}, column {name!r}: a gap of {steps[i]} {unit} after "
                         f"{dates[i]} (next date {dates[i + 1]}); the series allows at most {limit}. Fill the "
                         "missing dates or pass a larger max_gap (--max-gap).")
    return unit


def read_csv(path, columns, date_column=None, max_gap=None, delimiter=","):
    """Read a series from a CSV file (``.xz``/``.gz``/``.bz2`` too).

    Args:
        path: the file; its first row is a header.
        columns: the value columns to read, in order (a name or a list of names).
        date_column: the name of the date column (None: the first column).
        max_gap: largest allowed step between consecutive dates in the date unit (None: 1 month for
            monthly data, 7 days for daily data, the median step otherwise).
    Returns:
        a ``Series``.
    """
    path = check_path(path, "read_csv")
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ValueError(f"{path}: no value column asked for; pass columns=['Close'] (--column).")
    rows = [r for r in csv.reader(split_lines(decode_utf8(read_bytes(path), path)), delimiter=delimiter)]
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise ValueError(f"{path}: the file is empty; expected a header row and data rows.")
    header = [c.strip() for c in numbered[0][1]]
    date_at = 0 if date_column is None else _find(header, date_column, path)
    value_at = [_find(header, c, path) for c in columns]
    body = numbered[1:]
    if not body:
        raise ValueError(f"{path}: the file has a header but no data rows.")
    dates, values, lines = [], [], []
    for line, row in body:
        if len(row) < len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} fields, but the header has {len(header)} "
                             f"({header}); a column is missing in this row.")
        dates.append(_parse_date(row[date_at], path, line, header[date_at]))
        values.append([_parse_value(row[j], path, line, header[j]) for j in value_at])
        lines.append(line)
    units = {np.datetime_data(d.dtype)[0] for d in dates}
    if len(units) > 1:
        raise ValueError(f"{path}, column {header[date_at]!r}: the dates mix formats ({sorted(units)}); write them "
                         "all alike (e.g. all 'YYYY-MM' or all 'YYYY-MM-DD').")
    dates = np.array(dates)
    freq = _check_spacing(dates, lines, path, header[date_at], max_gap)
    return Series(dates, np.asarray(values, dtype=np.float64), tuple(columns), path, freq)
