"""Soak: the real window (off screen) on the synthetic source for --minutes, recording to a file,
styles cycling every 10 s as in kiosk mode. Every --every seconds: RSS, display FPS over the
interval, capture -> display latency p95 and engine p50 over the interval, threads alive.

Targets (issue 9): RSS growth after the warm-up (the first 10% of the run, at least 1 minute,
at most 10) at most 3%; display FPS and latency p95 of the last 10 minutes (the last third of a
shorter run) within 10% of the first 10 minutes after the warm-up; the recording playable end to
end; no thread leaked (as many alive at the end as after the warm-up).

    QT_QPA_PLATFORM=offscreen python benchmarks/soak.py --minutes 60 --json docs/bench/soak_60min.json \
        --plot docs/bench/soak_60min.png
Needs PyAV for the H.264 recording ('.[record]') and matplotlib for --plot ('.[bench]').
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def threads_alive() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def playable_frames(path: Path) -> tuple[int, float]:
    """Frames decoded from the file and the last frame's time (s)."""
    import av

    frames, last = 0, 0.0
    with av.open(str(path)) as f:
        for frame in f.decode(video=0):
            frames += 1
            last = float(frame.time or 0.0)
    return frames, last


def run(minutes: float, every: float, size: str, record: Path) -> dict:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from stylecam.app.cli.live import LiveOptions, prepare
    from stylecam.app.live.metrics import rss_mb
    from stylecam.app.ui.session import LiveSession
    from stylecam.app.ui.thumbnails import Thumbnails
    from stylecam.engines.host import cpu_class

    setup = prepare(LiveOptions(source="synthetic", size=size, record=record, duration=minutes * 60))
    setup = replace(setup, kiosk=True, cycle_s=10.0, keep_all_latencies=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = LiveSession(setup, Thumbnails(setup.choice.engine))
    m = session.metrics
    samples: list[dict] = []
    last = {"t": time.perf_counter(), "shown": 0}

    def sample() -> None:
        now = time.perf_counter()
        shown = m.display.count
        lat = m.latency.percentiles((95,))
        engine = m.engine_ms.percentiles((50,))
        samples.append({"t_s": round(now - started, 1), "rss_mb": round(rss_mb() or 0.0, 1),
                        "fps": round((shown - last["shown"]) / (now - last["t"]), 2),
                        "latency_p95_ms": lat["p95"] if lat else None,
                        "engine_p50_ms": engine["p50"] if engine else None, "threads": threads_alive(),
                        "style": session.style_index})
        last.update(t=now, shown=shown)
        print(f"soak {samples[-1]}", file=sys.stderr, flush=True)

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(int(every * 1000))
    session.on_shutdown = timer.stop  # no sample once the threads begin to stop
    QTimer.singleShot(int(minutes * 60 * 1000), session.finish)
    started = time.perf_counter()
    session.start()
    app.exec()
    timer.stop()
    session.shutdown()
    frames, last_t = playable_frames(record)
    return {"cpu": cpu_class(), "engine": setup.choice.describe().split(";")[0], "minutes": minutes,
            "size": size, "samples": samples, "recording": {**session.outputs.recordings[0], "decoded_frames": frames,
                                                          "last_frame_s": round(last_t, 2)},
            "errors": session.errors}


def verdict(report: dict) -> dict:
    """The targets, measured from the samples."""
    s = report["samples"]
    total = report["minutes"] * 60
    warm = min(max(0.1 * total, 60.0), 600.0)
    after = [x for x in s if x["t_s"] > warm]
    span = min(600.0, (total - warm) / 3)
    first = [x for x in after if x["t_s"] <= warm + span]
    last = [x for x in after if x["t_s"] > total - span]
    mean = lambda rows, key: float(np.mean([r[key] for r in rows if r[key] is not None]))  # noqa: E731
    rss_growth = 100 * (after[-1]["rss_mb"] - after[0]["rss_mb"]) / after[0]["rss_mb"]
    fps_change = 100 * (mean(last, "fps") - mean(first, "fps")) / mean(first, "fps")
    p95_change = 100 * (mean(last, "latency_p95_ms") - mean(first, "latency_p95_ms")) / mean(first, "latency_p95_ms")
    rec = report["recording"]
    checks = {
        "rss_growth_after_warmup_percent": round(rss_growth, 2),
        "fps_first_vs_last_percent": round(fps_change, 1),
        "latency_p95_first_vs_last_percent": round(p95_change, 1),
        "threads_after_warmup": after[0]["threads"], "threads_at_end": after[-1]["threads"],
        "recording_frames_written": rec["frames_written"], "recording_frames_decoded": rec["decoded_frames"],
        "recording_last_frame_s": rec["last_frame_s"],
        "warmup_s": warm, "compared_span_s": span,
    }
    checks["pass"] = {
        "rss": rss_growth <= 3.0,
        "fps_flat": abs(fps_change) <= 10.0,
        "latency_flat": abs(p95_change) <= 10.0,
        "recording_playable": rec["decoded_frames"] == rec["frames_written"] and rec["last_frame_s"] >= total - 15,
        "no_thread_leak": after[-1]["threads"] <= after[0]["threads"],
        "no_errors": not report["errors"],
    }
    return checks


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["samples"]
    t = [x["t_s"] / 60 for x in s]
    fig, axes = plt.subplots(4, 1, figsize=(8, 9), sharex=True)
    for ax, key, label in zip(axes, ("rss_mb", "fps", "latency_p95_ms", "threads"),
                              ("RSS (MiB)", "display FPS", "latency p95 (ms)", "threads alive")):
        ax.plot(t, [x[key] for x in s], lw=1)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("minutes")
    fig.suptitle(f"soak {report['minutes']:g} min, {report['size']}, {report['engine']}\nCPU {report['cpu']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--size", default="640x480")
    p.add_argument("--json", type=Path)
    p.add_argument("--plot", type=Path)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.minutes, args.every, args.size, Path(tmp) / "soak.mp4")
    report["verdict"] = verdict(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        plot(report, args.plot)
    print(json.dumps(report["verdict"], indent=1))
    return 0 if all(report["verdict"]["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
