"""The compiled graph's contract, shared by export and the backends (no torch here).

Inputs:  image 1x3xHxW float32 RGB [0,1]; style S float32; prev 1xCxH/8xW/8 float32;
         grid 1xH/8xW/8x2 float32 in [-1,1]; blend 1x1xH/8xW/8 float32 in [0,1].
Outputs: output 1x3xHxW float32 RGB (0,1); fused 1xCxH/8xW/8 float32 (the next state).
"""
DOWNSCALE = 8  # the core works at 1/8 of the input size; H and W must be multiples of this
INPUTS = ("image", "style", "prev", "grid", "blend")
OUTPUTS = ("output", "fused")
