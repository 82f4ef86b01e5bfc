"""Errors that end a command with exit code 2 and one line naming the culprit.

Anything raised as an :class:`EvalkitError` is bad usage or bad input: the CLI
prints ``evalkit: error: <message>`` on stderr and exits with code 2, without a
traceback unless ``--debug`` is given. Per-sample failures are never raised
this far: they become the ``error`` field of that sample's record.
"""


class EvalkitError(Exception):
    """Bad usage or bad input; the message names the file, row, card or flag at fault."""

    exit_code = 2


class CatalogError(EvalkitError):
    """A benchmark card is missing, unknown, or has a bad field."""


class DataError(EvalkitError):
    """A data source is unreadable, fails its checksum, or lacks a column."""


class ModelSpecError(EvalkitError):
    """A model spec names no known backend or cannot be loaded."""


class RunDirectoryError(EvalkitError):
    """A run directory holds work from a different configuration."""


class SampleError(Exception):
    """One sample cannot be used (corrupt image, generation failure).

    Caught by the runner and written as that sample's ``error``; the run goes on.
    """
