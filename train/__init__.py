"""Perceptual training of the multi-style stylizer (needs torch; never imported by the app)."""
