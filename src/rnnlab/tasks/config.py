"""Task settings declared once: a dataclass whose fields give a task's command-line flags, its Python defaults,
the metadata saved with its models and the checks of every value.

A setting is a field made with ``setting(default, help, ...)``, typed by its annotation: ``bool`` (flag
``--name/--no-name``), ``int``, ``float``, ``str``, a ``Union`` of them (a command-line value is tried as each
in the order written: ``Union[int, str]`` reads ``"3"`` as 3) or ``Optional[...]`` (the flag also takes
``none``; ``float | None`` works too). Flags are the field names with ``_`` as ``-``. Example::

    import argparse
    from dataclasses import dataclass
    from rnnlab.tasks.config import TaskConfig, setting

    @dataclass
    class LMConfig(TaskConfig):
        cell: str = setting("lstm", "recurrent cell", choices=("simple_rnn", "lstm", "gru"))
        units: int = setting(128, "hidden units", interval="[1, inf)")
        clipnorm: float | None = setting(None, "clip each gradient to this norm", interval="(0, inf)")

    parser = argparse.ArgumentParser(prog="rnnlab train lm")
    LMConfig.add_arguments(parser)                  # --cell, --units, --clipnorm
    config = LMConfig.from_args(parser.parse_args(["--units", "64"]))
    config.to_dict()                                # {"cell": "lstm", "units": 64, "clipnorm": None}
    LMConfig.from_dict({"units": 64}) == config     # True: keys missing from older saved models take defaults
    LMConfig.create(config, "train", units=0)       # ValueError: train got units=0; expected a positive integer ...
"""
import argparse
import collections
import contextlib
import contextvars
import dataclasses
import functools
import math
import numbers
import re
import types
import typing

# type -> (the values it accepts, numpy scalars included; its name in errors)
_KINDS = {bool: (bool, "True or False"), int: (numbers.Integral, "an integer"), float: (numbers.Real, "a number"),
          str: (str, "a string")}
# (type, low included, low) of an interval up to inf -> its name in errors
_SIGNED = {(int, True, 0.0): "a non-negative integer", (int, True, 1.0): "a positive integer",
           (int, False, 0.0): "a positive integer", (float, True, 0.0): "a non-negative number",
           (float, False, 0.0): "a positive number"}
_WHERE = contextvars.ContextVar("rnnlab_config_where", default=None)   # the caller named in errors of create()


def setting(default, help, *, choices=None, interval=None, expected=None, metavar=None):
    """A config field: ``default``, ``help`` (for ``--help``) and optionally ``choices`` (the allowed values),
    ``interval`` (a number's range: ``"[0, 1)"``, ``"(0, inf)"``; brackets include the end), ``expected``
    (the words errors use for the allowed values, instead of generated ones) and ``metavar`` (for ``--help``)."""
    bounds = None if interval is None else _interval(interval)
    meta = dict(help=help, choices=choices, interval=interval, bounds=bounds, expected=expected, metavar=metavar)
    return dataclasses.field(default=default, metadata=meta)


def _interval(text):
    """``"[0, 1)"`` -> ``(True, 0.0, 1.0, False)``: low included, low, high, high included."""
    match = re.fullmatch(r"([\[(])([^,]+),([^,]+)([\])])", text) if isinstance(text, str) else None
    with contextlib.suppress(TypeError, ValueError):
        return match[1] == "[", float(match[2]), float(match[3]), match[4] == "]"
    raise ValueError(f"setting got interval={text!r}; expected a range like '[0, 1)' or '(0, inf)'.")


# kinds: the allowed types in the order written, None left out (optional says whether None is allowed)
_Spec = collections.namedtuple("_Spec", "name kinds optional default meta")


@functools.lru_cache(maxsize=None)
def _specs(cls):
    """The settings of a config class, in declaration order (resolved once per class)."""
    hints, specs = typing.get_type_hints(cls), []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        members = typing.get_args(kind) if typing.get_origin(kind) in (typing.Union, types.UnionType) else (kind,)
        if not all(m in _KINDS or m is type(None) for m in members) or "help" not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} is declared as {kind}; a setting must be made with setting() "
                            "and be a bool, int, float, str, a Union of them or Optional[...] of one.")
        kinds = tuple(m for m in members if m is not type(None))
        specs.append(_Spec(f.name, kinds, type(None) in members, f.default, dict(f.metadata)))
    return tuple(specs)


def _expected(spec):
    """The allowed values in words, e.g. ``"a positive integer or None"``."""
    meta, bounds = spec.meta, spec.meta["bounds"]
    named = bounds and len(spec.kinds) == 1 and bounds[2] == math.inf and _SIGNED.get((spec.kinds[0], *bounds[:2]))
    if meta["expected"] or named:
        text = meta["expected"] or named
    elif meta["choices"] is not None:
        text = f"one of {meta['choices']!r}"
    else:
        text = " or ".join(_KINDS[k][1] for k in spec.kinds) + (f" in {meta['interval']}" if bounds else "")
    return text + (" or None" if spec.optional else "")


def _check(spec, value, where):
    """The value to store (a numpy scalar as a Python one, an int as a float for a float setting), or a
    TypeError (not of the declared type) / ValueError (not among the choices or in the interval)."""
    if value is None and spec.optional:
        return None
    given = value
    kind = next((k for k in spec.kinds if isinstance(value, _KINDS[k][0]) and (k is bool) == isinstance(value, bool)),
                None)
    error = TypeError if kind is None else None
    if kind in (int, float):
        value = kind(value)
        low_in, low, high, high_in = spec.meta["bounds"] or (True, -math.inf, math.inf, True)
        if not ((low <= value if low_in else low < value) and (value <= high if high_in else value < high)):
            error = ValueError
    if kind is not None and spec.meta["choices"] is not None and value not in spec.meta["choices"]:
        error = ValueError
    if error is not None:
        raise error(f"{where} got {spec.name}={given!r}; expected {_expected(spec)} (default: {spec.default!r}).")
    return value


def _command_line_type(spec):
    """The argparse ``type=`` of a setting: text -> checked value, or an argparse error naming what is allowed."""
    def parse(text):
        if spec.optional and text.strip().lower() == "none":
            return None
        for kind in spec.kinds:
            try:
                return _check(spec, {"true": True, "false": False}[text.lower()] if kind is bool else kind(text), "")
            except (KeyError, TypeError, ValueError):
                continue
        raise argparse.ArgumentTypeError(f"expected {_expected(spec)}, got {text!r}")
    return parse


def _reject_unknown(cls, names, where, error):
    unknown = [n for n in names if n not in cls.names()]
    if unknown:
        raise error(f"{where} got unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                    f"the settings of {cls.__name__} are: {', '.join(cls.names())}. Check the spelling, or drop "
                    "the setting if it came from another task or rnnlab version.")


class TaskConfig:
    """Base of a task's settings record; a subclass is a ``@dataclass`` whose fields are ``setting(...)``."""

    def __post_init__(self):
        """Check every value, then ``check_together``; store them normalised (3 -> 3.0 for a float setting)."""
        where = _WHERE.get() or type(self).__name__
        for spec in _specs(type(self)):
            object.__setattr__(self, spec.name, _check(spec, getattr(self, spec.name), where))
        self.check_together(where)

    def check_together(self, where):
        """Rules that involve several settings: a subclass overrides this and raises ValueError."""

    def to_dict(self):
        """The settings as a JSON-able dict, in declaration order."""
        return {spec.name: getattr(self, spec.name) for spec in _specs(type(self))}

    @classmethod
    def names(cls):
        """The setting names, in declaration order."""
        return tuple(spec.name for spec in _specs(cls))

    @classmethod
    def create(cls, base=None, where=None, **settings):
        """``base`` (a config of this class; None: the defaults) with ``settings`` changed, checked. Errors
        start with ``where`` (e.g. the calling function's name); an unknown setting is a TypeError."""
        where = where or cls.__name__
        if base is not None and not isinstance(base, cls):
            raise TypeError(f"{where} got config={base!r}; expected a {cls.__name__} or None.")
        _reject_unknown(cls, settings, where, TypeError)
        token = _WHERE.set(where)
        try:
            return cls(**{**(base.to_dict() if base is not None else {}), **settings})
        finally:
            _WHERE.reset(token)

    @classmethod
    def from_dict(cls, data, where=None):
        """The config written by ``to_dict``. Missing keys take their defaults (models saved before a setting
        existed still load); an unknown key is a ValueError naming it and the known ones."""
        where = where or f"{cls.__name__}.from_dict"
        if not isinstance(data, dict):
            raise TypeError(f"{where} got {type(data).__name__}; expected a dict of settings as written by to_dict().")
        _reject_unknown(cls, data, where, ValueError)
        return cls.create(None, where, **data)

    @classmethod
    def add_arguments(cls, parser, only=None, skip=()):
        """Add one flag per setting to the argparse ``parser`` (``only``/``skip``: names of settings to
        include/leave out). Values are checked while parsing; ``--help`` shows the defaults."""
        _reject_unknown(cls, [*(only or ()), *skip], f"{cls.__name__}.add_arguments", ValueError)
        for spec in _specs(cls):
            if (only is not None and spec.name not in only) or spec.name in skip:
                continue
            flag, help_text = "--" + spec.name.replace("_", "-"), spec.meta["help"].replace("%", "%%")
            if spec.kinds == (bool,) and not spec.optional:
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=spec.default, help=help_text)
            else:
                if spec.default is not None:
                    shown = spec.default if str(spec.default).isidentifier() else repr(spec.default)
                    help_text += f" (default: {shown})"
                parser.add_argument(flag, type=_command_line_type(spec), default=spec.default, help=help_text,
                                    choices=spec.meta["choices"], metavar=spec.meta["metavar"])
        return parser

    @classmethod
    def from_args(cls, args, where="the command line"):
        """The config from an ``argparse.Namespace`` parsed with ``add_arguments`` (other attributes ignored)."""
        return cls.create(None, where, **{k: v for k, v in vars(args).items() if k in cls.names()})
