"""Board errors (boards does not import the compiler; the CLI maps these to exit code 1)."""


class BoardError(ValueError):
    """Unknown board or a setting the board cannot take."""

    exit_code = 1
