"""The Qt window, its panels and video view, and the session that wires them to the pipeline."""
