"""The compiled graph's contract, shared by export and the backends (no torch here).

Inputs:  image 1x3xHxW float32 RGB [0,1]; style S float32;
         prev 1xH/8xW/8xC float32 (channels last): the previous fused features, already warped to
         this frame (temporal.warp_state), zeros after a reset;
         blend 1x1xH/8xW/8 float32 in [0,1].
Outputs: output 1x3xHxW float32 RGB (0,1); fused 1xH/8xW/8xC float32 (the next state).
The state is channels-last so that cv2.remap warps it in one call, with no transposes.

The regions graph (two styles in one pass, network.Stylizer.two_styles) adds, after style:
         style_b S float32, the second style; region 1x1xH/4xW/4 float32 in [0,1], where 1 paints
         with `style` and 0 with `style_b`.
"""
DOWNSCALE = 8  # the core works at 1/8 of the input size; H and W must be multiples of this
INPUTS = ("image", "style", "prev", "blend")
REGION_INPUTS = ("image", "style", "style_b", "region", "prev", "blend")
REGION_DOWNSCALE = 4  # the region map is at 1/4 of the input size
OUTPUTS = ("output", "fused")
GRAPH_KEY = "stylecam.graph"  # ONNX metadata: which network the graph holds, e.g. "stylecam v2"
