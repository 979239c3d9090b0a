"""Placeholder: filled in by the index work."""

__all__ = []
