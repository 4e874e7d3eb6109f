"""Re-extract the models from the mediapipe 0.10.21 wheel and check their sha256.

    python models/extract_models.py          # download the wheel, extract, verify
    python models/extract_models.py --check  # verify the files already here

Current mediapipe releases ship no model files; this wheel is where they come from.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACE_FOLDER = "mediapipe/modules/face_detection/"
SELFIE_FOLDER = "mediapipe/modules/selfie_segmentation/"
WHEEL_FOLDERS = {
    "face_detection_short_range.tflite": FACE_FOLDER,
    "face_detection_full_range_sparse.tflite": FACE_FOLDER,
    "selfie_segmentation.tflite": SELFIE_FOLDER,
    "selfie_segmentation_landscape.tflite": SELFIE_FOLDER,
}
"""Where each model file lives inside the wheel."""
MODELS = {
    "face_detection_short_range.tflite": "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    "face_detection_full_range_sparse.tflite": "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    "selfie_segmentation.tflite": "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    "selfie_segmentation_landscape.tflite": "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(folder: Path = HERE) -> list[str]:
    """Names of model files that are missing or whose hash is wrong."""
    return [name for name, digest in MODELS.items()
            if not (folder / name).is_file() or sha256(folder / name) != digest]


def extract(folder: Path = HERE) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.11", "mediapipe==0.10.21", "-d", tmp],
                       check=True)
        wheel = next(Path(tmp).glob("mediapipe-0.10.21-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in MODELS:
                (folder / name).write_bytes(archive.read(WHEEL_FOLDERS[name] + name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the files already here")
    args = parser.parse_args()
    if not args.check:
        extract()
    bad = check()
    for name in MODELS:
        print(f"{'BAD ' if name in bad else 'ok  '} {name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
