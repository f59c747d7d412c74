"""terraml: ML platforms on several clouds, as code."""

__version__ = "0.1.0"
