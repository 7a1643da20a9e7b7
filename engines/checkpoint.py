"""Reading training checkpoints (torch): the network and its style bank."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stylecam.engines.network import NetConfig, Stylizer
from stylecam.engines.styles import StyleBank


def _load(path: Path) -> dict:
    import torch

    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def net_config(saved: dict) -> NetConfig:
    """The NetConfig a checkpoint was saved with; checkpoints from before the layout had a
    version are v1, and v2 checkpoints from before `decoder_width` end at widths[0]."""
    if "version" not in saved:
        return NetConfig.v1()
    return NetConfig(widths=tuple(saved["widths"]), residual_blocks=saved["residual_blocks"],
                     residual_inner=saved["residual_inner"], version=saved["version"],
                     decoder_width=saved.get("decoder_width", saved["widths"][0]),
                     image_detail=saved.get("image_detail", False), seed_period=saved.get("seed_period", 0),
                     stem_stride=saved.get("stem_stride", 2), residual_kernel=saved.get("residual_kernel", 3))


def load_network(path: Path) -> Stylizer:
    """The eval-mode network stored in a checkpoint."""
    state = _load(path)
    net = Stylizer(net_config(state["net_config"]))
    net.load_state_dict(state["net"])
    return net.eval()


def load_bank(path: Path) -> StyleBank:
    """The style vectors and names stored in a checkpoint."""
    state = _load(path)
    return StyleBank(tuple(state["names"]), state["styles"].numpy().astype(np.float32))


def bank_style_weight(path: Path, default: float = 2.0) -> float:
    """The style-loss weight the checkpoint's bank was trained with (`default` where it is not
    recorded), so a style added later is trained to the same strength."""
    return float(_load(path).get("train_config", {}).get("style_weight", default))
