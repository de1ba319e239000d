"""Board errors. ``boards`` does not import the compiler; the CLI exits with ``exit_code``."""


class BoardError(ValueError):
    """Unknown board or a setting the board cannot take."""

    exit_code = 1
