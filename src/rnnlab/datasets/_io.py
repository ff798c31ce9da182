"""Reading files for the loaders: transparent .xz/.gz/.bz2, strict UTF-8 with line numbers in errors."""
import bz2
import gzip
import lzma
import os
import zlib

_OPENERS = {".xz": lzma.open, ".lzma": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}
_DECOMPRESS_ERRORS = (lzma.LZMAError, OSError, EOFError, zlib.error)


def check_path(path, what):
    """``os.fspath(path)``, or FileNotFoundError saying what was expected there."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{what}: expected a path (str or pathlib.Path), got {type(path).__name__}.")
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: {path!r} does not exist. Check the path (relative paths are "
                                f"taken from {os.getcwd()!r}).")
    return path


def read_bytes(path):
    """The whole file's bytes, decompressed according to its suffix (.xz, .lzma, .gz, .bz2)."""
    opener = _OPENERS.get(os.path.splitext(path)[1].lower(), open)
    try:
        with opener(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a folder; expected a file.") from None
    except _DECOMPRESS_ERRORS as e:
        if opener is open:
            raise
        raise ValueError(f"{path!r} could not be decompressed ({type(e).__name__}: {e}); the file is "
                         "truncated or damaged, or its suffix does not match its format.") from None


def decode_utf8(raw, path, line_offset=0):
    """Strict UTF-8 (a leading BOM is dropped); invalid bytes raise ValueError with file and line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1 + line_offset
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ValueError(f"{path}, line {line}: invalid UTF-8 (byte {raw[e.start:e.start + 1]!r} at column {col}, "
                         f"{e.reason}). Re-save the file as UTF-8.") from None
    return text[1:] if text.startswith("\ufeff") else text


def split_lines(text):
    """Lines without their ending (LF or CRLF); a final newline does not make an extra empty line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
