#!/usr/bin/env python3
"""Build the test images of tests/system/unpack.bats as OCI layouts.

    mkimage.py OUTDIR CASE...     one OCI layout per case: OUTDIR/CASE (tag "latest")
    mkimage.py --list             the case names

Every image starts with the busybox (linux/amd64) layer of the shared images
($MINI_SHARED_IMAGES/busybox), so that what is not refused can be run.  The
layers that follow are made here with python's tarfile: hostile ones (names
escaping the layer, writes through symlinks, hardlinks to host files,
whiteouts of `..`, a gzip bomb, 100k files) and well-formed ones that tar
implementations get wrong (PAX and GNU long names, opaque markers after the
content, huge uids, 0000 directories, hardlinks to files a later layer
deletes, 70 layers).  OUTDIR/CASE/layers.txt lists the digests of the
layers made here, one per line, bottom-most first.

The host canary the hostile entries aim at is $MINI_CANARY
(default /tmp/mini-unpack-canary).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import zlib

SHARED = os.environ.get("MINI_SHARED_IMAGES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../../../shared/images")
CANARY = os.environ.get("MINI_CANARY", "/tmp/mini-unpack-canary")
BUSYBOX_AMD64 = "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
MTIME = 1700000000

LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


# ---------------------------------------------------------------- tar entries

def ti(name, type_=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, **kw):
    t = tarfile.TarInfo(name)
    t.type = type_
    t.mode = mode
    t.uid, t.gid = uid, gid
    t.uname = t.gname = ""
    t.mtime = MTIME
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def f(name, data=b"", **kw):
    if isinstance(data, str):
        data = data.encode()
    return (ti(name, size=len(data), **kw), data)


def d(name, mode=0o755, **kw):
    return (ti(name, tarfile.DIRTYPE, mode, **kw), None)


def sym(name, target):
    return (ti(name, tarfile.SYMTYPE, 0o777, linkname=target), None)


def hard(name, target):
    return (ti(name, tarfile.LNKTYPE, 0o644, linkname=target), None)


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


# ---------------------------------------------------------------- cases
# Each case: a list of layers; a layer is (entries, format, gzip?) or a
# callable writing the blob itself (returns (blob, diff_id, media_type)).

def case_absolute():
    return [([f(CANARY + "/pwned", "pwned")], tarfile.GNU_FORMAT, False)]


def case_dotdot():
    return [([d("etc"), f("etc/../../../../../../../.." + CANARY + "/pwned", "pwned")],
             tarfile.PAX_FORMAT, True)]


def case_symlink_write():
    # a symlink to / and a file written through it, in the same layer
    return [([sym("evil", "/"), f("evil" + CANARY + "/pwned", "pwned")], tarfile.PAX_FORMAT, True)]


def case_symlink_write_lower():
    # the symlink in one layer, the write through it in the next
    return [([sym("evil", CANARY)], tarfile.PAX_FORMAT, True),
            ([f("evil/pwned", "pwned")], tarfile.PAX_FORMAT, True)]


def case_hardlink_passwd():
    return [([hard("passwd", "/etc/passwd")], tarfile.PAX_FORMAT, True)]


def case_hardlink_dotdot():
    return [([hard("passwd", "../../../../../../../../etc/passwd")], tarfile.PAX_FORMAT, False)]


def case_whiteout_dotdot():
    return [([f("../.wh.x")], tarfile.PAX_FORMAT, True)]


def case_whiteout_bare():
    return [([d("etc"), f("etc/.wh.")], tarfile.PAX_FORMAT, True)]


def case_whiteout_dotdot_name():
    return [([d("etc"), f("etc/.wh..")], tarfile.PAX_FORMAT, True)]


def case_opaque_after():
    return [([d("op"), f("op/old", "old"), d("op/sub"), f("op/sub/old2", "old")], tarfile.PAX_FORMAT, True),
            ([d("op"), f("op/new", "new"), d("op/sub"), f("op/sub/new2", "new"),
              f("op/.wh..wh..opq"),
              # whiteouts in any order: before and after the same name
              f(".wh.wo"), d("wo"), f("wo/new", "new"),
              f("bin/.wh.vi")],
             tarfile.PAX_FORMAT, True)]


def case_hardlink_deleted():
    return [([d("hl"), f("hl/target", "the target")], tarfile.PAX_FORMAT, True),
            ([d("hl"), hard("hl/link", "hl/target")], tarfile.PAX_FORMAT, True),
            ([f("hl/.wh.target")], tarfile.PAX_FORMAT, True)]


def case_dir0000():
    return [([d("locked", mode=0o000), f("locked/inside", "inside"),
              d("ro", mode=0o555), d("ro/sub", mode=0o555), f("ro/sub/f", "f", mode=0o444),
              d("sticky", mode=0o1777), f("suid", "x", mode=0o4755), f("sgid", "x", mode=0o2755)],
             tarfile.PAX_FORMAT, True)]


def case_many_files():
    entries = [d("many")]
    for i in range(100):
        entries.append(d("many/%02d" % i))
    for i in range(100000):
        entries.append(f("many/%02d/%05d" % (i % 100, i), "%d\n" % i))
    return [(entries, tarfile.PAX_FORMAT, True)]


def case_long_names():
    long_dir = "long/" + "d" * 200 + "/" + "e" * 200
    pax_file = long_dir + "/" + "f" * 150          # > 255 bytes: PAX path
    gnu_dir = "gnu/" + "g" * 180 + "/" + "h" * 180
    gnu_file = gnu_dir + "/" + "i" * 120           # GNU ././@LongLink
    target = "/" + "t" * 250 + "/target"           # long link targets
    return [([d("long"), d("long/" + "d" * 200), d(long_dir), f(pax_file, "pax"),
              sym("long/symlink", target), hard("long/hardlink", pax_file)],
             tarfile.PAX_FORMAT, True),
            ([d("gnu"), d("gnu/" + "g" * 180), d(gnu_dir), f(gnu_file, "gnu"),
              sym("gnu/symlink", target), hard("gnu/hardlink", gnu_file)],
             tarfile.GNU_FORMAT, False)]


def case_uid_max():
    return [([f("uidmax", "x", uid=4294967294, gid=4294967294),
              d("uiddir", uid=4294967294, gid=4294967293)],
             tarfile.PAX_FORMAT, True)]


def case_many_layers():
    layers = [([d("layers")], tarfile.PAX_FORMAT, True)]
    for i in range(70):
        layers.append(([d("layers"), f("layers/%02d" % i, "layer %02d\n" % i)],
                       tarfile.PAX_FORMAT, i % 2 == 0))
    return layers


def bomb_layer():
    """A gzip'd tar holding one 1 GiB file of zeros (about 1 MiB of gzip)."""
    size = 1 << 30
    header = tarfile.TarInfo("zeros")
    header.size = size
    header.mtime = MTIME
    head = header.tobuf(tarfile.PAX_FORMAT)
    sha = hashlib.sha256()
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = io.BytesIO()
    zeros = bytes(1 << 20)
    sha.update(head)
    out.write(comp.compress(head))
    for _ in range(size >> 20):
        sha.update(zeros)
        out.write(comp.compress(zeros))
    tail = bytes(1024)  # no padding needed (size is a multiple of 512): end of archive
    sha.update(tail)
    out.write(comp.compress(tail))
    out.write(comp.flush())
    return out.getvalue(), "sha256:" + sha.hexdigest(), LAYER_GZIP


def case_gzip_bomb():
    return [bomb_layer]


CASES = {
    "absolute": case_absolute,
    "dotdot": case_dotdot,
    "symlink-write": case_symlink_write,
    "symlink-write-lower": case_symlink_write_lower,
    "hardlink-passwd": case_hardlink_passwd,
    "hardlink-dotdot": case_hardlink_dotdot,
    "whiteout-dotdot": case_whiteout_dotdot,
    "whiteout-bare": case_whiteout_bare,
    "whiteout-dotdot-name": case_whiteout_dotdot_name,
    "opaque-after": case_opaque_after,
    "hardlink-deleted": case_hardlink_deleted,
    "dir0000": case_dir0000,
    "many-files": case_many_files,
    "long-names": case_long_names,
    "uid-max": case_uid_max,
    "many-layers": case_many_layers,
    "gzip-bomb": case_gzip_bomb,
}


# ---------------------------------------------------------------- OCI layout

def put_blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest[7:])
    if not os.path.exists(path):
        with open(path, "wb") as fh:
            fh.write(data)
    return digest


def read_shared(digest):
    with open(os.path.join(SHARED, "busybox", "blobs", "sha256", digest[7:]), "rb") as fh:
        return fh.read()


def build(out, name):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    with open(os.path.join(out, "oci-layout"), "w") as fh:
        json.dump({"imageLayoutVersion": "1.0.0"}, fh)

    base_manifest = json.loads(read_shared(BUSYBOX_AMD64))
    base_config = json.loads(read_shared(base_manifest["config"]["digest"]))
    base_layer = base_manifest["layers"][0]
    put_blob(out, read_shared(base_layer["digest"]))
    layers = [dict(base_layer)]
    diff_ids = list(base_config["rootfs"]["diff_ids"])
    made = []

    for layer in CASES[name]():
        if callable(layer):
            blob, diff_id, media_type = layer()
        else:
            entries, fmt, compress = layer
            raw = tar_bytes(entries, fmt)
            diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
            blob = gzip.compress(raw, 6, mtime=0) if compress else raw
            media_type = LAYER_GZIP if compress else LAYER_TAR
        digest = put_blob(out, blob)
        layers.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
        diff_ids.append(diff_id)
        made.append(digest)

    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": base_config["config"].get("Env", []), "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "mini tests/system/unpack/mkimage.py %s" % name}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = put_blob(out, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config_bytes)},
        "layers": layers,
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest = put_blob(out, manifest_bytes)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": manifest["mediaType"], "digest": manifest_digest,
                       "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    }
    with open(os.path.join(out, "index.json"), "w") as fh:
        json.dump(index, fh)
    with open(os.path.join(out, "layers.txt"), "w") as fh:
        fh.write("".join(m + "\n" for m in made))


def main(argv):
    if argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if len(argv) < 3 or any(c not in CASES for c in argv[2:]):
        sys.stderr.write("usage: mkimage.py OUTDIR CASE... (cases: %s)\n" % " ".join(CASES))
        return 2
    for name in argv[2:]:
        build(os.path.join(argv[1], name), name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
