"""Placeholder: filled in by the linalg work."""

__all__ = []
