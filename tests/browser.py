"""Debian's Chromium as the browser tests and the canvas benchmark launch it.

A downloaded browser cannot run here, so Playwright is pointed at the system package.
"""

from __future__ import annotations

import shutil

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Headless Chromium without a GPU draws WebGL with SwiftShader, the software GL.
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"]
#: Screenshots kept for the record.
RECORD = ROOT / "var" / "e2e"
