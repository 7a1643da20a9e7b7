"""One-time conversion of MediaPipe's selfie-segmentation TFLite model to ONNX, so the person mask
runs in the ONNX Runtime the app already ships (no mediapipe, no second OpenCV, no TFLite runtime).

    python -m stylecam.export.segmenter_onnx selfie_segmentation_landscape.tflite -o segmenter.onnx

Needs the `tflite` package (the flatbuffer schema reader, Apache-2.0): `pip install tflite onnx`.
The graph is rebuilt op by op in NCHW; weights are copied (fp16 ones widened to fp32). The ops
this model uses are all that is supported: CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, MEAN,
HARD_SWISH, RELU, LOGISTIC, RESIZE_BILINEAR, DEQUANTIZE and MediaPipe's custom
Convolution2DTransposeBias. Anything else raises.

The ONNX graph: input `image` 1 x 3 x 144 x 256 float32 RGB in [0, 1]; output `person`
1 x 1 x 144 x 256 float32 in [0, 1], the probability that a pixel shows a person.
"""
from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np

TFLITE_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32}
SAME, VALID = 0, 1  # tflite.Padding
ACTIVATIONS = {0: None, 1: "Relu"}  # tflite.ActivationFunctionType NONE, RELU


class Unsupported(ValueError):
    """The TFLite model uses something this converter does not translate."""


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite SAME padding along one axis: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class Converter:
    """Walks the TFLite subgraph and emits ONNX nodes; tensors are named t<index>."""

    def __init__(self, model_bytes: bytes):
        import tflite

        self.tfl = tflite
        self.model = tflite.Model.GetRootAsModel(model_bytes, 0)
        self.graph = self.model.Subgraphs(0)
        self.nodes, self.inits = [], {}
        self.consts: dict[int, np.ndarray] = {}

    def _tensor(self, i: int):
        return self.graph.Tensors(i)

    def _shape(self, i: int) -> list[int]:
        return self._tensor(i).ShapeAsNumpy().tolist()

    def _buffer(self, i: int) -> np.ndarray | None:
        """A constant tensor's value (dequantised ones included), or None for activations."""
        if i in self.consts:
            return self.consts[i]
        t = self._tensor(i)
        data = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int) or data.size == 0:
            return None
        dtype = TFLITE_DTYPES.get(t.Type())
        if dtype is None:
            raise Unsupported(f"tensor {t.Name().decode()} has TFLite type {t.Type()}")
        return np.frombuffer(data.tobytes(), dtype).reshape(self._shape(i))

    def _const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def _node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=f"{op}_{len(self.nodes)}", **attrs))
        return output

    def _activation(self, fused: int, out: str) -> str:
        """Apply a fused activation to tensor `out` (already emitted as `out`_pre)."""
        if fused not in ACTIVATIONS:
            raise Unsupported(f"fused activation {fused}")
        act = ACTIVATIONS[fused]
        return self._node(act, [out + "_pre"], out) if act else self._node("Identity", [out + "_pre"], out)

    def _conv(self, ins, out, options, depthwise: bool) -> None:
        x, w, b = ins
        weight, bias = self._buffer(w), self._buffer(b)
        _, in_h, in_w, channels = self._shape(x)
        if depthwise:  # 1 x kh x kw x C*m -> C*m x 1 x kh x kw
            weight = weight.transpose(3, 0, 1, 2)
            group = channels
        else:  # O x kh x kw x I -> O x I x kh x kw
            weight = weight.transpose(0, 3, 1, 2)
            group = 1
        kh, kw = weight.shape[2:]
        sh, sw, dh, dw = options.StrideH(), options.StrideW(), options.DilationHFactor(), options.DilationWFactor()
        if options.Padding() == SAME:
            top, bottom = _same_pads(in_h, kh, sh, dh)
            left, right = _same_pads(in_w, kw, sw, dw)
        else:
            top = bottom = left = right = 0
        self._node("Conv", [f"t{x}", self._const(f"t{w}", weight.astype(np.float32)),
                            self._const(f"t{b}", bias.astype(np.float32))], f"t{out}_pre",
                   strides=[sh, sw], dilations=[dh, dw], pads=[top, left, bottom, right], group=group)
        self._activation(options.FusedActivationFunction(), f"t{out}")

    def _transpose_conv_bias(self, ins, out, custom: bytes) -> None:
        """MediaPipe's Convolution2DTransposeBias: options are int32 padding, stride_w, stride_h."""
        x, w, b = ins
        padding, stride_w, stride_h = struct.unpack("<3i", custom[:12])
        weight = self._buffer(w)  # O x kh x kw x I -> I x O x kh x kw
        kh, kw = weight.shape[1:3]
        if (kh, kw) != (stride_h, stride_w) or padding not in (1, 2):  # TfLitePadding SAME=1, VALID=2
            raise Unsupported(f"transpose conv kernel {kh}x{kw}, strides {stride_h}x{stride_w}, padding {padding}")
        self._node("ConvTranspose", [f"t{x}", self._const(f"t{w}", weight.transpose(3, 0, 1, 2).astype(np.float32)),
                                     self._const(f"t{b}", self._buffer(b).astype(np.float32))], f"t{out}",
                   strides=[stride_h, stride_w], kernel_shape=[kh, kw])

    def _binary(self, op: str, ins, out, options) -> None:
        a, b = ins
        self._node(op, [f"t{a}", f"t{b}"], f"t{out}_pre")
        self._activation(options.FusedActivationFunction(), f"t{out}")

    def _mean(self, ins, out, keep_dims: bool) -> None:
        x, axes = ins
        if self._buffer(axes).tolist() != [1, 2] or not keep_dims:  # NHWC spatial axes
            raise Unsupported(f"MEAN over axes {self._buffer(axes).tolist()}")
        self._node("GlobalAveragePool", [f"t{x}"], f"t{out}")

    def _resize(self, ins, out, options) -> None:
        x, size = ins
        h, w = self._buffer(size).tolist()
        n, _, _, c = self._shape(x)
        mode = ("align_corners" if options.AlignCorners() else
                "half_pixel" if options.HalfPixelCenters() else "asymmetric")
        self._node("Resize", [f"t{x}", "", "", self._const(f"t{out}_sizes", np.array([n, c, h, w], np.int64))],
                   f"t{out}", mode="linear", coordinate_transformation_mode=mode)

    def convert(self):
        """The ONNX ModelProto (opset 17)."""
        from onnx import TensorProto, helper

        tfl = self.tfl
        codes = []
        for i in range(self.model.OperatorCodesLength()):
            oc = self.model.OperatorCodes(i)
            codes.append(tfl.opcode2name(max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())))
        (source,) = self.graph.InputsAsNumpy().tolist()
        (sink,) = self.graph.OutputsAsNumpy().tolist()
        for k in range(self.graph.OperatorsLength()):
            op = self.graph.Operators(k)
            name = codes[op.OpcodeIndex()]
            ins, (out,) = op.InputsAsNumpy().tolist(), op.OutputsAsNumpy().tolist()
            opts = op.BuiltinOptions()

            def options(cls):
                o = cls()
                o.Init(opts.Bytes, opts.Pos)
                return o

            if name == "DEQUANTIZE":
                self.consts[out] = self._buffer(ins[0]).astype(np.float32)
            elif name == "CONV_2D":
                self._conv(ins, out, options(tfl.Conv2DOptions), depthwise=False)
            elif name == "DEPTHWISE_CONV_2D":
                self._conv(ins, out, options(tfl.DepthwiseConv2DOptions), depthwise=True)
            elif name in ("ADD", "MUL"):
                cls = tfl.AddOptions if name == "ADD" else tfl.MulOptions
                self._binary(name.capitalize(), ins, out, options(cls))
            elif name == "MEAN":
                self._mean(ins, out, options(tfl.ReducerOptions).KeepDims())
            elif name == "RESIZE_BILINEAR":
                self._resize(ins, out, options(tfl.ResizeBilinearOptions))
            elif name in ("HARD_SWISH", "RELU", "LOGISTIC"):
                onnx_op = {"HARD_SWISH": "HardSwish", "RELU": "Relu", "LOGISTIC": "Sigmoid"}[name]
                self._node(onnx_op, [f"t{ins[0]}"], f"t{out}")
            elif name == "CUSTOM" and self.model.OperatorCodes(op.OpcodeIndex()).CustomCode() == b"Convolution2DTransposeBias":
                self._transpose_conv_bias(ins, out, bytes(op.CustomOptionsAsNumpy()))
            else:
                raise Unsupported(f"TFLite op {name} (operator {k})")
        _, h, w, _ = self._shape(source)
        self.nodes.insert(0, helper.make_node("Identity", ["image"], [f"t{source}"], name="input"))
        self._node("Identity", [f"t{sink}"], "person")
        graph = helper.make_graph(
            self.nodes, "selfie_segmentation",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, h, w])],
            [helper.make_tensor_value_info("person", TensorProto.FLOAT, [1, 1, h, w])],
            list(self.inits.values()))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="stylecam")
        model.doc_string = ("MediaPipe Selfie Segmentation (landscape), converted from TFLite by "
                            "stylecam.export.segmenter_onnx; Apache-2.0, (c) Google LLC")
        return model


def convert(tflite_path: Path, onnx_path: Path) -> None:
    """Write the ONNX translation of `tflite_path` to `onnx_path` and check it."""
    import onnx

    model = Converter(tflite_path.read_bytes()).convert()
    onnx.checker.check_model(model)
    onnx.save(model, str(onnx_path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tflite", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    convert(args.tflite, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
