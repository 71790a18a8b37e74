"""The HTTP edge: the intake API for booking systems."""

from notifier.web.app import create_app

__all__ = ["create_app"]
