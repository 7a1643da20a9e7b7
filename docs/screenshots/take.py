"""Screenshots of the live window for the docs: run under a display, e.g.
    xvfb-run -s '-screen 0 1280x720x24' python docs/screenshots/take.py
Writes window.png (normal), side_by_side.png, kiosk.png, reconnecting.png and one picture per
regions mode (regions_background_only.png, regions_person_only.png, regions_two_styles.png, on
the sample clip's shot with the actor) beside this file. Saved settings are not read or written."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

from stylecam.app.cli.live import LiveOptions, prepare
from stylecam.app.live.camera import CameraSource
from stylecam.app.ui.session import LiveSession
from stylecam.app.ui.thumbnails import Thumbnails

HERE = Path(__file__).resolve().parent


def wait(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def session_for(options: LiveOptions, source=None) -> LiveSession:
    setup = prepare(options)
    if source is not None:
        setup.source = source
    session = LiveSession(setup, Thumbnails(setup.choice.engine))
    session.start()
    return session


def actor_shot(folder: Path) -> Path:
    """The sample clip's shot with the actor (frames 21-64) as its own clip, so every grab has him."""
    import cv2

    from stylecam.assets import paths

    cap, frames = cv2.VideoCapture(str(paths.sample_clip())), []
    for index in range(65):
        ok, frame = cap.read()
        if ok and index >= 21:
            frames.append(frame)
    path = folder / "actor.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 24.0, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def main() -> int:
    scratch = Path(tempfile.mkdtemp())
    os.environ["XDG_CONFIG_HOME"] = str(scratch)  # the user's saved settings play no part
    app = QApplication(sys.argv[:1])
    session = session_for(LiveOptions(source="sample", style="starry_night", size="640x360"))
    wait(app, 4.0)
    session.window.grab().save(str(HERE / "window.png"))
    QTest.keyClick(session.window, Qt.Key.Key_S)
    wait(app, 2.0)
    session.window.grab().save(str(HERE / "side_by_side.png"))
    session.finish()

    session = session_for(LiveOptions(source="sample", style="great_wave", size="640x360", kiosk=True, cycle=30))
    wait(app, 4.0)
    session.window.grab().save(str(HERE / "kiosk.png"))
    session.finish()

    class Unplugged:  # a camera that is gone: the kiosk shows its reconnecting card
        def __call__(self, device):
            import cv2

            return cv2.VideoCapture()

    session = session_for(LiveOptions(source="sample", size="640x360", kiosk=True, cycle=30),
                          CameraSource(0, opener=Unplugged()))
    wait(app, 2.5)
    session.window.grab().save(str(HERE / "reconnecting.png"))
    session.finish()

    actor = str(actor_shot(scratch))
    for name, regions in (("background_only", {"person_style": "original"}),
                          ("person_only", {"background_style": "original"}),
                          ("two_styles", {"background_style": "the_scream"})):
        session = session_for(LiveOptions(source=actor, style="starry_night", size="640x360", **regions))
        wait(app, 4.0)
        session.refresh_metrics()
        wait(app, 0.5)
        session.window.grab().save(str(HERE / f"regions_{name}.png"))
        session.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
