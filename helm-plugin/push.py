"""Publish olrender's Helm plugin package to an OCI registry, in the form `helm plugin install oci://...` reads.

    python helm-plugin/push.py dist/olrender-0.1.0.tgz oci://ghcr.io/OWNER/olrender:0.1.0 [--plain-http]

One manifest with the artifact type application/vnd.helm.plugin.v1+json (Helm's
pkg/registry/plugin.go), an empty config, and one layer per file, titled by its name:
``olrender-VERSION.tgz`` and, when it exists next to it, its signature ``olrender-VERSION.tgz.prov``.
Helm pulls only tar layer media types, so both are pushed as application/vnd.oci.image.layer.v1.tar(+gzip).
The repository's last path part must be the plugin's name (``olrender``), and the tag its version.
OCI_USERNAME and OCI_PASSWORD, when set, log in first (ghcr.io: the actor and a GITHUB_TOKEN).
Needs the ``oras`` package from PyPI (the release workflow and the tests install it).
"""

from __future__ import annotations

import os
import sys
import tempfile

import oras.defaults
import oras.oci
import oras.provider

ARTIFACT_TYPE = "application/vnd.helm.plugin.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
MEDIA_TYPES = {".tgz": "application/vnd.oci.image.layer.v1.tar+gzip", ".prov": "application/vnd.oci.image.layer.v1.tar"}


def push(package: str, reference: str, plain_http: bool = False) -> str:
    """Push the package (and its .prov, if any) as a Helm plugin artifact; return the manifest's digest."""
    target = reference.removeprefix("oci://")
    name, _, version = target.rpartition("/")[2].partition(":")
    expected = f"{name}-{version}.tgz"
    if os.path.basename(package) != expected:
        raise SystemExit(f"push.py: {reference} needs the package {expected}, not {os.path.basename(package)}")
    registry = oras.provider.Registry(hostname=target.partition("/")[0], insecure=plain_http)
    if os.environ.get("OCI_USERNAME"):
        registry.login(os.environ["OCI_USERNAME"], os.environ["OCI_PASSWORD"])
    container = registry.get_container(target)
    manifest = oras.oci.NewManifest()
    for path in (package, package + ".prov"):
        if not os.path.exists(path):
            continue
        layer = oras.oci.NewLayer(path, media_type=MEDIA_TYPES[os.path.splitext(path)[1]])
        layer["annotations"] = {oras.defaults.annotation_title: os.path.basename(path)}
        registry.upload_blob(path, container, layer).raise_for_status()
        manifest["layers"].append(layer)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as empty:
        empty.write("{}")
    try:
        config = oras.oci.NewLayer(empty.name, media_type=EMPTY_CONFIG)
        registry.upload_blob(empty.name, container, config).raise_for_status()
    finally:
        os.unlink(empty.name)
    manifest["config"] = {key: config[key] for key in ("mediaType", "digest", "size")}
    manifest["artifactType"] = ARTIFACT_TYPE
    response = registry.upload_manifest(manifest, container)
    response.raise_for_status()
    return str(response.headers.get("Docker-Content-Digest", ""))


def main(argv: list[str]) -> int:
    """Command line: PACKAGE REFERENCE [--plain-http]."""
    args = [a for a in argv if a != "--plain-http"]
    if len(args) != 2:
        sys.stderr.write(__doc__ or "")
        return 2
    print(f"Pushed {args[1]}: {push(args[0], args[1], '--plain-http' in argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
