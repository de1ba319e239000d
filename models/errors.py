"""Model-zoo errors. ``models`` does not import the compiler; the CLI exits with ``exit_code``."""


class ModelError(ValueError):
    """Unknown model name, bad checkpoint, missing or malformed data set files."""

    exit_code = 1
