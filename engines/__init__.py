"""Stylizer network, temporal path, style bank and inference backends."""
