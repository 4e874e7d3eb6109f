"""Focus Assistant: a real-time camera autofocus and focus-pull assistant."""

__version__ = "0.1.0"
