"""Placeholder: filled in by the grid work."""

__all__ = []
