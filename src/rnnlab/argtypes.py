"""argparse ``type=`` functions shared by the command-line verbs: a value, or a message naming what was given.

Example::

    parser.add_argument("--steps", type=positive_int)     # "--steps 0" -> error: expected a positive integer, got '0'
"""
import argparse


def positive_int(text):
    """A positive integer from the command line."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text):
    """A positive finite number from the command line."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value
