#!/usr/bin/python3
"""`flowtrain data convert` under mpirun: the ranks split the shards and the set is
byte for byte the one a single process writes (every shard file and the manifest),
at 1, 2 and 3 ranks, for IDX (gzip, read front to back) and npz (two files, one
deflated, so ranks start inside and across files), and for the vector sets of npy,
csv and `data make-toy`. Also the progress line.

Run by CTest (label mpi) with Debian's python3 (numpy). Environment: FLOWTRAIN_BINARY,
FLOWTRAIN_SOURCE_DIR, FLOWTRAIN_SCRATCH_ROOT (scratch, removed on success),
FLOWTRAIN_FASHION_MNIST, MPIEXEC.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import unittest

BINARY = os.environ["FLOWTRAIN_BINARY"]
SOURCE = pathlib.Path(os.environ["FLOWTRAIN_SOURCE_DIR"])
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
import scratch  # noqa: E402  (tests/support/scratch.py: removed when every test passed)
SCRATCH = scratch.make_scratch_dir("flowtrain-convert-ranks")
MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
FASHION = pathlib.Path(os.environ["FLOWTRAIN_FASHION_MNIST"])
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
PROGRESS = re.compile(r"^converting: (\d+)/(\d+) images \(\d+\.\d%\) \| \d+ images/s \| ETA \d\d:\d\d:\d\d$")


def convert(ranks, source_args, out, *extra, subcommand="convert"):
    command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), "-x", "OMP_NUM_THREADS",
               BINARY, "data", subcommand, *source_args, "--out", str(out), *extra]
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def files_of(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


class ConvertAcrossRanksTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        script = SOURCE / "tests" / "datasets" / "make_npz_fixture.py"
        for name, n, mode in (("a.npz", 700, "compressed"), ("b.npz", 450, "stored")):
            subprocess.run(["/usr/bin/python3", str(script), str(SCRATCH / name), str(n), "8", mode, "int64"],
                           check=True)
        import numpy as np
        rng = np.random.default_rng(3)
        np.save(SCRATCH / "a.npy", rng.standard_normal((300, 3)).astype(np.float32))
        np.save(SCRATCH / "b.npy", rng.standard_normal((170, 3)))
        for name, rows in (("a.csv", 300), ("b.csv", 170)):
            table = rng.standard_normal((rows, 2)).astype(np.float32)
            with open(SCRATCH / name, "w") as out:
                out.write("x,y,class\n")
                out.writelines(f"{x!r},{y!r},{int(rows + i) % 3}\n" for i, (x, y) in enumerate(table.tolist()))


    def assert_same_sets_at_1_2_3_ranks(self, name, source_args, *extra, subcommand="convert"):
        outs = []
        for ranks in (1, 2, 3):
            out = SCRATCH / f"{name}-np{ranks}"
            result = convert(ranks, source_args, out, *extra, subcommand=subcommand)
            self.assertIn(f"{ranks} ranks", result.stdout)
            outs.append(out)
        reference = files_of(outs[0])
        self.assertIn("manifest.json", reference)
        self.assertGreater(len(reference), 3)
        for out in outs[1:]:
            files = files_of(out)
            self.assertEqual(sorted(files), sorted(reference), f"{out}: other files")
            for file, data in reference.items():
                self.assertTrue(files[file] == data, f"{out / file} differs from {outs[0] / file}")
        verify = subprocess.run([BINARY, "data", "verify", str(outs[-1])], env=ENV, capture_output=True, text=True)
        self.assertEqual(verify.returncode, 0, verify.stderr)

    def test_idx_is_byte_identical_at_1_2_3_ranks(self):
        # 7 shards over 3 ranks: uneven shares (2, 2, 3).
        source = ["--from", "idx", str(FASHION / "t10k-images-idx3-ubyte.gz"), str(FASHION / "t10k-labels-idx1-ubyte.gz")]
        self.assert_same_sets_at_1_2_3_ranks("idx", source, "--shards", "7")

    def test_npz_is_byte_identical_at_1_2_3_ranks(self):
        # 5 shards of 230 images over a 700 + 450 image pair: shard 3 spans both files.
        source = ["--from", "npz", str(SCRATCH / "a.npz"), str(SCRATCH / "b.npz")]
        self.assert_same_sets_at_1_2_3_ranks("npz", source, "--shards", "5")

    def test_vector_sets_are_byte_identical_at_1_2_3_ranks(self):
        # 5 shards of 94 rows over a 300 + 170 row pair: shard 3 spans both files.
        npy = ["--from", "npy", str(SCRATCH / "a.npy"), str(SCRATCH / "b.npy")]
        self.assert_same_sets_at_1_2_3_ranks("npy", npy, "--shards", "5")
        csv = ["--from", "csv", str(SCRATCH / "a.csv"), str(SCRATCH / "b.csv"), "--label-column", "3"]
        self.assert_same_sets_at_1_2_3_ranks("csv", csv, "--shards", "5")
        toy = ["pinwheel", "--n", "1000", "--seed", "7"]
        self.assert_same_sets_at_1_2_3_ranks("toy", toy, "--shards", "4", subcommand="make-toy")

    def test_more_ranks_than_shards(self):
        source = ["--from", "npz", str(SCRATCH / "b.npz")]
        convert(1, source, SCRATCH / "few-np1", "--shards", "2")
        convert(3, source, SCRATCH / "few-np3", "--shards", "2")
        self.assertEqual(files_of(SCRATCH / "few-np1"), files_of(SCRATCH / "few-np3"))

    def test_progress_line_on_stderr(self):
        source = ["--from", "idx", str(FASHION / "train-images-idx3-ubyte.gz")]
        quiet = convert(2, source, SCRATCH / "progress-default")  # not a terminal: a line per 30 s
        self.assertEqual([l for l in quiet.stderr.splitlines() if l.startswith("converting")], [])
        shown = convert(2, source, SCRATCH / "progress-shown", "--progress-seconds", "0.01")
        lines = [l for l in shown.stderr.splitlines() if l.startswith("converting")]
        self.assertGreater(len(lines), 0, shown.stderr)
        for line in lines:
            match = PROGRESS.match(line)
            self.assertIsNotNone(match, line)
            self.assertLessEqual(int(match.group(1)), int(match.group(2)))
            self.assertEqual(int(match.group(2)), 60000)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    scratch.finish(SCRATCH, result.wasSuccessful())
    sys.exit(0 if result.wasSuccessful() else 1)
