"""Atomic JSON files for the text pipeline's vocabularies: written to a temporary file in the same folder,
flushed and fsync'ed, then ``os.replace``-d over the old one, so a crash never leaves half a file.

Example::

    write_json_atomic("vocab.json", {"tokens": ["a", "b"]}, prefix=".vocab-")
"""
import json
import os
import tempfile


def write_json_atomic(path, data, prefix=".json-"):
    """Write ``data`` as UTF-8 JSON to ``path`` atomically (see the module docstring)."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
