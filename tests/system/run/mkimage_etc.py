#!/usr/bin/env python3
"""Images for the init-layer tests of tests/system/run.bats, as OCI layouts.

    mkimage_etc.py OUTDIR     OUTDIR/etc-symlink, OUTDIR/etc-attrs, OUTDIR/no-etc

Built like the unpack tests' images (unpack/mkimage.py: busybox's layer,
then layers made here):
  etc-symlink  /etc is a symlink to usr/etc (which holds passwd and group)
  etc-attrs    /etc is a directory of mode 0751 owned by 1234:5678
  no-etc       /etc is deleted (a whiteout), /proc and /sys too
"""
import os
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unpack"))
import mkimage as m  # noqa: E402  (after the path)

PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
GROUP = "root:x:0:\n"


def case_etc_symlink():
    return [([m.d("usr/etc"), m.f("usr/etc/passwd", PASSWD), m.f("usr/etc/group", GROUP),
              m.sym("etc", "usr/etc")], tarfile.PAX_FORMAT, True)]


def case_etc_attrs():
    return [([m.d("etc", 0o751, uid=1234, gid=5678)], tarfile.PAX_FORMAT, True)]


def case_no_etc():
    return [([m.f(".wh.etc"), m.f(".wh.proc"), m.f(".wh.sys")], tarfile.PAX_FORMAT, True)]


m.CASES.update({"etc-symlink": case_etc_symlink, "etc-attrs": case_etc_attrs,
                "no-etc": case_no_etc})

if __name__ == "__main__":
    for name in ("etc-symlink", "etc-attrs", "no-etc"):
        m.build(os.path.join(sys.argv[1], name), name)
