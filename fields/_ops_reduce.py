"""Placeholder: filled in by the reduce work."""

__all__ = []
