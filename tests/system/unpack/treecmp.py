#!/usr/bin/env python3
"""Compare two directory trees entry by entry (mini's system tests).

    treecmp.py [--ignore PATH]... [--no-hardlinks] A B

Walks both trees without following symlinks and compares, for every path:
type, owner (uid:gid), mode (with setuid/setgid/sticky), size and sha256 of
regular files, symlink targets, device numbers, extended attributes
(names and values), and which paths are hardlinks of each other.  Prints
one line per difference and the number of entries compared; exits 1 when
the trees differ, 0 when they are the same.
"""
import argparse
import hashlib
import os
import stat
import sys


def describe(root, rel):
    path = os.path.join(root, rel) if rel else root
    st = os.lstat(path)
    mode = st.st_mode
    d = {
        "type": stat.S_IFMT(mode),
        "owner": (st.st_uid, st.st_gid),
        "mode": oct(stat.S_IMODE(mode)),
    }
    if stat.S_ISREG(mode):
        h = hashlib.sha256()
        with open(path, "rb", buffering=0) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        d["size"] = st.st_size
        d["sha256"] = h.hexdigest()
    elif stat.S_ISLNK(mode):
        d["target"] = os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        names = []
    xattrs = {}
    for n in names:
        try:
            xattrs[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError as e:
            xattrs[n] = "error %d" % e.errno
    d["xattrs"] = xattrs
    return d, (st.st_dev, st.st_ino) if (not stat.S_ISDIR(mode) and st.st_nlink > 1) else None


def walk(root, ignore):
    entries, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        for name in sorted(dirnames + filenames):
            rel = os.path.join(rel_dir, name) if rel_dir else name
            if rel in ignore:
                continue
            entries[rel], inode = describe(root, rel)
            if inode:
                inodes.setdefault(inode, []).append(rel)
        dirnames[:] = [n for n in dirnames if (os.path.join(rel_dir, n) if rel_dir else n) not in ignore]
    # the hardlink groups: the sets of paths sharing an inode
    return entries, {frozenset(g) for g in inodes.values()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("--no-hardlinks", action="store_true")
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args()
    ignore = set(args.ignore)
    ea, la = walk(args.a, ignore)
    eb, lb = walk(args.b, ignore)
    diffs = []
    for p in sorted(set(ea) | set(eb)):
        if p not in ea:
            diffs.append("only in %s: %s" % (args.b, p))
        elif p not in eb:
            diffs.append("only in %s: %s" % (args.a, p))
        else:
            for k in sorted(set(ea[p]) | set(eb[p])):
                if ea[p].get(k) != eb[p].get(k):
                    diffs.append("%s: %s differs: %r != %r" % (p, k, ea[p].get(k), eb[p].get(k)))
    if not args.no_hardlinks:
        for side, groups, other in ((args.a, la, lb), (args.b, lb, la)):
            for g in sorted(groups - other, key=sorted):
                names = sorted(g)
                diffs.append("%s: hardlinks differ: only in %s: %d links: %s%s" % (
                    names[0], side, len(names), " ".join(names[:5]), " ..." if len(names) > 5 else ""))
    for line in diffs[:200]:
        print(line)
    if len(diffs) > 200:
        print("... %d more differences" % (len(diffs) - 200))
    print("compared %d entries: %s" % (len(set(ea) | set(eb)), "DIFFERENT" if diffs else "same"))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
