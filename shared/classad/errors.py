"""The one exception the ClassAd package raises for malformed text."""


class ClassAdSyntaxError(ValueError):
    """Malformed ClassAd text; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int, text: str = ""):
        self.position = position
        self.text = text
        super().__init__(f"{message} at position {position}")
