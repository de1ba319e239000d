"""The driver's one error type (its own module, so every backend module can raise it)."""


class DriverError(Exception):
    """Bad build directory or bad input array; the message says what was expected.

    ``exit_code`` is what ``bitfab`` returns for it (1: bad input); this module imports nothing
    of ours, so the CLI reads the attribute rather than a shared base class.
    """

    exit_code = 1
