"""Warm start of a v2 network from a trained v1 checkpoint (engines/network.py has both layouts).

Copied where the layouts agree: the encoder (same convs), each residual block restricted to its
first `residual_inner` inner channels (conv_a's first output channels, conv_b's first inputs),
and the last decoder conv before the output; each style's norm parameters for those channels come
along. The rest starts fresh (identity norm parameters), and distillation from the v1 teacher's
output (loop.py) brings it in line quickly."""
from __future__ import annotations

import torch

from stylecam.engines.network import Stylizer


def _norm_slices(config) -> list[tuple[int, int]]:
    """(offset, channels) of each norm layer's scale block in a style vector; the shift block
    follows its scale block."""
    out, offset = [], 0
    for c in config.norm_channels():
        out.append((offset, c))
        offset += 2 * c
    return out


def map_styles(student: Stylizer, teacher: Stylizer, teacher_styles: torch.Tensor,
               pairs: list[tuple[int, int]]) -> torch.Tensor:
    """Student style vectors (K x S) from the teacher's: identity everywhere, then for each
    (student layer, teacher layer) pair the first channels' scale and shift copied."""
    s_slices, t_slices = _norm_slices(student.config), _norm_slices(teacher.config)
    styles = student.config.identity_style().repeat(len(teacher_styles), 1)
    for si, ti in pairs:
        (so, sc), (to, tc) = s_slices[si], t_slices[ti]
        n = min(sc, tc)
        styles[:, so : so + n] = teacher_styles[:, to : to + n]
        styles[:, so + sc : so + sc + n] = teacher_styles[:, to + tc : to + tc + n]
    return styles


def init_from_v1(student: Stylizer, teacher: Stylizer, teacher_styles: torch.Tensor) -> torch.Tensor:
    """Copy what fits from a v1 teacher into a v2 student (in place); returns the student's
    K x S style vectors."""
    if teacher.config.version != 1 or student.config.version < 2:
        raise ValueError("warm start maps a v1 teacher onto a v2 student")
    if student.config.widths != teacher.config.widths:
        raise ValueError(f"widths differ: {student.config.widths} vs {teacher.config.widths}")
    inner = student.config.residual_inner
    with torch.no_grad():
        for name in ("enc1", "enc2", "enc3", "dec2"):
            getattr(student, name).load_state_dict(getattr(teacher, name).state_dict())
        for (sa, sb), (ta, tb) in zip(student.res, teacher.res):
            sa.weight.copy_(ta.weight[:inner])
            sa.bias.copy_(ta.bias[:inner])
            sb.weight.copy_(tb.weight[:, :inner])
            sb.bias.copy_(tb.bias)
    blocks = student.config.residual_blocks
    pairs = [(i, i) for i in range(3 + 2 * blocks)]  # encoder and residual norms, in order
    pairs.append((len(student.config.norm_channels()) - 1, len(teacher.config.norm_channels()) - 1))  # dec2
    return map_styles(student, teacher, teacher_styles, pairs)
