"""Vendor the site's JavaScript libraries from npm into docs/javascripts/vendor/ (maintainers only).

The site loads nothing from other hosts, so the charting library is a file of the repository.
``docs/javascripts/vendor/manifest.json`` says, per npm package, the version and which files of
its tarball are copied where; this script fetches each tarball with ``npm pack`` (the ordinary
npm client: it checks the registry's integrity hash), copies those files, and writes back the
tarball's integrity and each copied file's sha256. CI never runs it: the tests only check that
the vendored files still match the manifest.

    python scripts/update_vendored_js.py              # the versions in the manifest
    python scripts/update_vendored_js.py uplot@1.6.33  # move a package to another version
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "docs" / "javascripts" / "vendor"
MANIFEST = VENDOR / "manifest.json"


def pack(package: str, version: str, workdir: Path) -> tuple[Path, dict]:
    """Download ``package@version`` with ``npm pack``; returns the tarball and npm's description of it."""
    completed = subprocess.run(["npm", "pack", f"{package}@{version}", "--json"], cwd=workdir, capture_output=True, text=True, check=True)
    (info,) = json.loads(completed.stdout)
    return workdir / info["filename"], info


def vendor(package: str, entry: dict, workdir: Path) -> dict:
    """Copy the manifest's files of one package out of its tarball; the entry updated with hashes."""
    tarball, info = pack(package, entry["version"], workdir)
    hashes = {}
    with tarfile.open(tarball) as archive:
        for source, target in entry["files"].items():
            content = archive.extractfile(f"package/{source}").read()
            path = VENDOR / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            hashes[target] = hashlib.sha256(content).hexdigest()
    return {
        "version": info["version"],
        "integrity": info["integrity"],
        "tarball": f"https://registry.npmjs.org/{package}/-/{info['filename']}",
        "license": json.loads(_read_member(tarball, "package/package.json")).get("license"),
        "files": entry["files"],
        "sha256": hashes,
    }


def _read_member(tarball: Path, name: str) -> bytes:
    with tarfile.open(tarball) as archive:
        return archive.extractfile(name).read()


def main(arguments: list[str]) -> None:
    """Re-vendor every package of the manifest; ``name@version`` arguments change a version first."""
    manifest = json.loads(MANIFEST.read_text())
    for argument in arguments:
        name, _, version = argument.partition("@")
        manifest[name]["version"] = version
    with tempfile.TemporaryDirectory() as workdir:
        updated = {name: vendor(name, entry, Path(workdir)) for name, entry in sorted(manifest.items())}
    MANIFEST.write_text(json.dumps(updated, indent=2) + "\n")
    for name, entry in updated.items():
        print(f"{name} {entry['version']} {entry['integrity']}")


if __name__ == "__main__":
    main(sys.argv[1:])
