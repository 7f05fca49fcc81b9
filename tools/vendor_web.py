"""Copies the browser libraries from web/node_modules into web/vendor/ and rewrites its manifest.

The server serves web/vendor/, so neither `make run` nor an installed wheel needs Node.js. Run
`make vendor` (npm ci in web/, then this script) after changing web/package.json. The manifest
records, per vendored file, the npm package, its version and the lockfile's integrity (the
SHA-512 of the package tarball, which npm ci checked) and the SHA-256 of the file;
tests/test_packaging.py checks all of them against web/package-lock.json and web/node_modules.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
VENDOR = WEB / "vendor"
# (npm package, file inside the package, name under web/vendor/)
FILES = (
    ("socket.io-client", "dist/socket.io.esm.min.js", "socket.io.esm.min.js"),
    ("uqr", "dist/index.mjs", "uqr.mjs"),
    ("socket.io-client", "LICENSE", "licenses/socket.io-client.txt"),
    # The socket.io bundle carries the code of these packages too, so their licences ship with it.
    ("engine.io-client", "LICENSE", "licenses/engine.io-client.txt"),
    ("engine.io-parser", "LICENSE", "licenses/engine.io-parser.txt"),
    ("socket.io-parser", "LICENSE", "licenses/socket.io-parser.txt"),
    ("@socket.io/component-emitter", "LICENSE", "licenses/component-emitter.txt"),
    ("uqr", "LICENSE", "licenses/uqr.txt"),
)


def locked(package: str) -> dict[str, str]:
    """The lockfile's entry of ``package``, checked against what npm installed."""
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    entry = lock["packages"][f"node_modules/{package}"]
    installed = json.loads((WEB / "node_modules" / package / "package.json").read_text())
    if installed["version"] != entry["version"]:
        sys.exit(
            f"{package} {installed['version']} is installed, the lockfile says "
            f"{entry['version']}: run `npm ci` in web/"
        )
    return {"version": entry["version"], "integrity": entry["integrity"]}


def vendor_one(package: str, inside: str, name: str) -> dict[str, str]:
    """Copy one file into web/vendor/ and describe it for the manifest."""
    target = VENDOR / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WEB / "node_modules" / package / inside, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return {"file": name, "package": package, **locked(package), "path": inside, "sha256": digest}


def main() -> None:
    if not (WEB / "node_modules").is_dir():
        sys.exit("web/node_modules is missing: run `npm ci` in web/ first")
    entries = [vendor_one(*spec) for spec in FILES]
    kept = {VENDOR / "MANIFEST.json"} | {VENDOR / spec[2] for spec in FILES}
    for stale in [p for p in VENDOR.rglob("*") if p.is_file() and p not in kept]:
        stale.unlink()  # a library dropped from package.json must not linger
    manifest = {"generated_by": "make vendor (tools/vendor_web.py)", "files": entries}
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"web/vendor/: {len(entries)} files from web/node_modules")


if __name__ == "__main__":
    main()
