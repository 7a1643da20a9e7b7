"""The compiled graph's contract, shared by export and the backends (no torch here).

Inputs:  image 1x3xHxW float32 RGB [0,1]; style S float32;
         prev 1xH/8xW/8xC float32 (channels last): the previous fused features, already warped to
         this frame (temporal.warp_state), zeros after a reset;
         blend 1x1xH/8xW/8 float32 in [0,1].
         norm_stats S float32: every norm layer's per-channel mean and variance, laid out as a
         style vector (in place of scale and shift), as the last frame's step returned them;
         norm_beta 1 float32 in [0, 1): how much of them to keep (0: this frame's statistics alone,
         the per-frame network; network.Stylizer.smoothed).
Outputs: output 1x3xHxW float32 RGB (0,1); fused 1xH/8xW/8xC float32 (the next state);
         next_norm_stats S float32 (the next frame's norm_stats).
The state is channels-last so that cv2.remap warps it in one call, with no transposes.

A seeded network (network.NetConfig.seed_period) takes, in both graphs, its stem's whole input as
`image`: 1 x (3 + SEED_CHANNELS) x (H + 2 STEM_PAD) x (W + 2 STEM_PAD) float32, the RGB image and
the seed tile (seed.seed_tile, its period in the graph's SEED_KEY metadata) cut at the cell under
the image's top-left cell, reflected by STEM_PAD pixels each way (seed.StemInput writes it).

The regions graph (two styles in one pass, network.Stylizer.two_styles) adds, after style:
         style_b S float32, the second style; region 1x1xH/4xW/4 float32 in [0,1], where 1 paints
         with `style` and 0 with `style_b`; it has neither norm input nor the third output (its
statistics are per frame).
"""
DOWNSCALE = 8  # the core works at 1/8 of the input size; H and W must be multiples of this
INPUTS = ("image", "style", "prev", "blend", "norm_stats", "norm_beta")
SEED_CHANNELS = 2  # seed tile planes after the RGB ones in a seeded graph's image
STEM_PAD = 1  # pixels a seeded graph's image is reflected by each way (its stem has no padding)
REGION_INPUTS = ("image", "style", "style_b", "region", "prev", "blend")
REGION_OUTPUTS = ("output", "fused")
REGION_DOWNSCALE = 4  # the region map is at 1/4 of the input size
OUTPUTS = ("output", "fused", "next_norm_stats")
GRAPH_KEY = "stylecam.graph"  # ONNX metadata: which network the graph holds, e.g. "stylecam v2"
SEED_KEY = "stylecam.seed_period"  # ONNX metadata of a seeded graph: its seed tile's period, pixels
