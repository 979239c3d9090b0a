"""Placeholder: filled in by the creation work."""

__all__ = []
