"""Scratch folders for the Python test drivers (the C++ suites use
tests/support/scratch_dir.h, the same rule): a fresh folder with a unique name under
$FLOWTRAIN_SCRATCH_ROOT (CTest points it into the build tree) or else $TMPDIR,
removed when the test passed and kept, named on stderr, when it failed.
"""
import os
import pathlib
import shutil
import sys
import tempfile


def make_scratch_dir(tag):
    root = os.environ.get("FLOWTRAIN_SCRATCH_ROOT") or tempfile.gettempdir()
    os.makedirs(root, exist_ok=True)
    return pathlib.Path(tempfile.mkdtemp(prefix=tag + "-", dir=root))


def finish(path, passed):
    if passed:
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"scratch folder kept for a look: {path}", file=sys.stderr)
