"""The one exception type the configuration package raises."""


class ConfigError(Exception):
    """Bad configuration: the message names the file, the line and the problem."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        if source is not None and line is not None:
            message = f"{source}, line {line}: {message}"
        elif source is not None:
            message = f"{source}: {message}"
        super().__init__(message)
        self.source = source
        self.line = line
