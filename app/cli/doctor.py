"""`stylecam doctor`: one report of what will run on this machine and why, for users and bug
reports. Nothing here imports torch (its version is read from the installed package's metadata)."""
from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict
from importlib import metadata

from stylecam.app.live.cameras import CameraFormat, CameraList, capture_backends, enumerate_cameras
from stylecam.app.ui.display import display_status
from stylecam.engines.host import cpu_class, cpu_flags

# (label, distributions to look for: the first installed one is reported)
PACKAGES = (("stylecam", ("stylecam",)), ("onnxruntime", ("onnxruntime", "onnxruntime-gpu")), ("openvino", ("openvino",)),
            ("opencv", ("opencv-python-headless", "opencv-python")), ("PyQt6", ("PyQt6",)),
            ("PyQt6-Qt6", ("PyQt6-Qt6",)), ("PyAV", ("av",)), ("pyvirtualcam", ("pyvirtualcam",)),
            ("torch", ("torch",)))
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16")


def versions() -> dict[str, str]:
    """Python and each package's installed version ('not installed' where absent)."""
    found = {"python": f"{platform.python_version()} ({sys.executable})"}
    for label, dists in PACKAGES:
        found[label] = "not installed"
        for dist in dists:
            try:
                found[label] = metadata.version(dist) + ("" if dist == dists[0] else f" ({dist})")
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def onnxruntime_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def engine_report() -> dict:
    """The engine `auto` picks over the shipped graph, with why the faster ones were passed over."""
    from stylecam.app.cli.loading import load_engine
    from stylecam.engines.backends import EngineUnavailable

    try:
        choice = load_engine("auto")
    except EngineUnavailable as exc:
        return {"error": str(exc)}
    e = choice.engine
    return {"engine": e.name, "provider": e.provider, "graph": e.graph, "precision": e.precision,
            "passed_over": list(choice.notes)}


def paths_report() -> dict[str, str]:
    """Where the app reads and writes."""
    from stylecam.app.ui.settings import load_settings, settings_path
    from stylecam.assets import paths
    from stylecam.engines.backends import trt_cache_dir
    from stylecam.engines.styles import user_styles_dir

    settings, _ = load_settings()
    return {"settings": str(settings_path()), "user styles": str(user_styles_dir()),
            "TensorRT cache": str(trt_cache_dir()),
            "recordings and snapshots": settings.capture_dir or "the current folder",
            "model": str(paths.model_onnx())}


def collect(cameras: CameraList | None = None) -> dict:
    """The whole report as plain data (what `--json` prints)."""
    flags = cpu_flags()
    cams = cameras if cameras is not None else enumerate_cameras()
    display = display_status()
    return {
        "versions": versions(),
        "onnxruntime_providers": onnxruntime_providers(),
        "cpu": {"class": cpu_class(flags), "model": _cpu_model(), "cores": _cores(),
                "flags": {f: f in flags for f in CPU_FLAGS}},
        "engine": engine_report(),
        "cameras": {"listed_by": cams.via, "note": cams.note, "found": [asdict(c) for c in cams.cameras],
                    "captured_by": [f"OpenCV {name}" for _, name in capture_backends()]},
        "paths": paths_report(),
        "display": {"available": display.available, "reason": display.reason},
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def lines(report: dict) -> list[str]:
    """The report as text, one fact per line."""
    out = ["stylecam doctor", "", "Versions"]
    out += [f"  {k:14s} {v}" for k, v in report["versions"].items()]
    out.append(f"  onnxruntime providers: {', '.join(report['onnxruntime_providers'])}")
    cpu = report["cpu"]
    out += ["", "CPU", f"  {cpu['model']}, {cpu['cores']} cores available, class {cpu['class']}",
            "  " + "  ".join(f"{f} {'yes' if on else 'no'}" for f, on in cpu["flags"].items())]
    engine = report["engine"]
    out += ["", "Engine (--engine auto)"]
    if "error" in engine:
        out.append(f"  none can run: {engine['error']}")
    else:
        out.append(f"  {engine['engine']} on {engine['provider']}, graph {engine['graph']} {engine['precision']}")
        out += [f"  passed over {note}" for note in engine["passed_over"]]
    cams = report["cameras"]
    out += ["", f"Cameras (listed by {cams['listed_by']}; captured by {' or '.join(cams['captured_by'])})"]
    if cams["note"]:
        out.append(f"  note: {cams['note']}")
    if not cams["found"]:
        out.append("  none found: the window plays the bundled sample clip")
    for cam in cams["found"]:
        out.append(f"  {cam['name']!r} -> --source {cam['device']}")
        modes = [CameraFormat(**f).describe() for f in cam["formats"]]
        out += [f"      {m}" for m in modes] if modes else ["      formats: not listed"]
    out += ["", "Paths"] + [f"  {k:26s} {v}" for k, v in report["paths"].items()]
    display = report["display"]
    out += ["", "Display", f"  {'available' if display['available'] else 'none'}: {display['reason']}"
            + ("" if display["available"] else " (the window cannot open; `stylecam stylize` works headless)"),
            "", f"Platform: {report['platform']}"]
    return out
