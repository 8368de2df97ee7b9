#!/usr/bin/env python3
"""Writes an OCI image layout with small generated images, for tests.

usage: make-oci-layout.py DIR TAG:single TAG:multi ...
  TAG:single  one linux/amd64 image with 2-3 random layers
  TAG:multi   an image index with linux/amd64 and linux/arm64 images
  TAG:big     as single, plus a layer of 12 MiB of random bytes (more than two
              S3 parts of 5 MiB, for multipart uploads)
Prints every blob digest (config, layers, manifests, indexes), one per line,
to stdout as "kind digest", so a test knows what to expect.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest


def make_layer(rng, name, size=None):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(1 if size else rng.randint(1, 4)):
            content = rng.randbytes(size or rng.randint(100, 40000))
            info = tarfile.TarInfo(f"{name}/file{i}.bin")
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, mtime=0)


def make_image(layout, rng, arch, out, big=0):
    layers, diff_ids = [], []
    sizes = [None] * rng.randint(2, 3) + ([big] if big else [])
    for n, size in enumerate(sizes):
        tar_bytes, gz = make_layer(rng, f"{arch}-layer{n}", size)
        digest = put_blob(layout, gz)
        out.append(("layer", digest))
        layers.append({"mediaType": OCI_LAYER, "digest": digest, "size": len(gz)})
        diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
    config = json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "created": "2026-01-01T00:00:00Z",
        "history": [{"created_by": f"generated {arch} {rng.random()}"}],
    }, sort_keys=True).encode()
    config_digest = put_blob(layout, config)
    out.append(("config", config_digest))
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": layers,
    }, sort_keys=True).encode()
    digest = put_blob(layout, manifest)
    out.append(("manifest", digest))
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"}}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    layout = sys.argv[1]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    out, entries = [], []
    for spec in sys.argv[2:]:
        tag, _, kind = spec.partition(":")
        if kind in ("single", "big"):
            desc = make_image(layout, rng, "amd64", out, 12 << 20 if kind == "big" else 0)
            desc.pop("platform")
        elif kind == "multi":
            children = [make_image(layout, rng, a, out) for a in ("amd64", "arm64")]
            index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                "manifests": children}, sort_keys=True).encode()
            digest = put_blob(layout, index)
            out.append(("index", digest))
            desc = {"mediaType": OCI_INDEX, "digest": digest, "size": len(index)}
        else:
            sys.exit(f"make-oci-layout: bad spec {spec!r} (want TAG:single, TAG:multi or TAG:big)")
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        entries.append(desc)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, f)
    for kind, digest in out:
        print(kind, digest)


if __name__ == "__main__":
    main()
