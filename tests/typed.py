"""Build a model the way the CLI does: its typed signature checked by jsonargparse, then constructed.

A value of the wrong type or range fails while parsing (`jsonargparse.ArgumentError`, naming the
argument); a combination that cannot work fails in the constructor (`ConfigError`, a ValueError).
"""

from __future__ import annotations

from jsonargparse import ArgumentParser


def build(cls, **kwargs):
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(cls, "model", fail_untyped=False)
    config = parser.parse_object({"model": kwargs})
    return parser.instantiate(config).model
