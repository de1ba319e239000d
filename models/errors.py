"""Model-zoo errors. ``models`` does not import the compiler; the CLI maps these to exit 1."""


class ModelError(ValueError):
    """Unknown model name, bad checkpoint, missing or malformed data set files."""

    exit_code = 1
