"""Headless Chromium (Debian's package) for tests that look at a page as a person would."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
_IMAGE_CHECK = """<script>window.addEventListener('load', () => {
  const images = [...document.images];
  document.body.dataset.imagesLoaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.imagesTotal = images.length;
});</script></body>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=90)


def rendered_dom(binary: str, page: Path) -> str:
    """The DOM after load, with data-images-loaded / data-images-total set on <body>."""
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text().replace("</body>", _IMAGE_CHECK, 1))
    try:
        return _run(binary, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()).stdout
    finally:
        probe.unlink(missing_ok=True)


def images_loaded(dom: str) -> tuple[int, int]:
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    total = re.search(r'data-images-total="(\d+)"', dom)
    return (int(loaded[1]) if loaded else -1, int(total[1]) if total else -1)


def screenshot(binary: str, page: Path, png: Path, width: int = 1300, height: int = 2600) -> Path:
    _run(binary, f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri())
    return png
