"""Shipped model, style bank and sample clip, located with importlib.resources."""
