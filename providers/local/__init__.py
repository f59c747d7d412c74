from terraml.providers.local.backend import LocalBackend

__all__ = ["LocalBackend"]
