#!/usr/bin/python3
"""A second stop signal in the middle of a checkpoint write (SLURM repeats SIGTERM,
or the time-limit warning lands during the preemption checkpoint) never corrupts it:
the save finishes and commits, the job exits 75, and the run resumes from it.

The second signal comes from the checkpoint fault injection
(FLOWTRAIN_CHECKPOINT_FAULT=<point>:<rank>:TERM|USR1), raised on that rank at that
point of the save, after a first SIGTERM to one rank started it. Under mpirun, no
cluster needed."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from slurm_testing import BINARY, CONFIGS, DATA, SCRATCH, log_text

MPIEXEC = os.environ.get("MPIEXEC", "mpirun")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")


def train_command(run_dir, steps):
    return [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS", "-x",
            "OMP_WAIT_POLICY", "-x", "FLOWTRAIN_CHECKPOINT_FAULT", BINARY, "train", str(CONFIGS / "tiny-glow.toml"),
            "--run-dir", str(run_dir), "--set", f"data.train={DATA / 'train'}", "--set", f"train.steps={steps}",
            "--set", "log.every_steps=1"]


class SecondSignal(unittest.TestCase):
    def test_second_signal_during_the_save(self):
        for fault in ("mid_shard:1:TERM", "mid_manifest:0:USR1", "after_shard_write:0:TERM"):
            with self.subTest(fault=fault):
                run = SCRATCH / "second-signal" / fault.replace(":", "-")
                shutil.rmtree(run, ignore_errors=True)
                env = dict(ENV, FLOWTRAIN_CHECKPOINT_FAULT=fault)
                process = subprocess.Popen(train_command(run, 100000), env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
                deadline = time.time() + 120
                while time.time() < deadline and "step 3/" not in log_text(run):
                    time.sleep(0.1)
                ranks = subprocess.run(["pgrep", "-f", f"{BINARY} train .*{run}"], capture_output=True, text=True)
                pids = [int(p) for p in ranks.stdout.split() if int(p) != process.pid]
                self.assertEqual(len(pids), 2, ranks.stdout)
                os.kill(pids[0], signal.SIGTERM)
                stdout, stderr = process.communicate(timeout=120)
                self.assertEqual(process.returncode, 75, stdout + stderr)
                checkpoint = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
                self.assertTrue((checkpoint / "COMMITTED").exists())
                verify = subprocess.run([BINARY, "ckpt", "verify", str(run)], capture_output=True, text=True)
                self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
                step = json.loads((checkpoint / "manifest.json").read_text())["step"]
                resumed = subprocess.run(train_command(run, step + 3), env=dict(ENV, FLOWTRAIN_CHECKPOINT_FAULT=""),
                                         capture_output=True, text=True, timeout=120)
                self.assertEqual(resumed.returncode, 0, resumed.stderr)
                self.assertIn(f"(step {step}, written by 2 ranks, now 2)", resumed.stdout)
                shutil.rmtree(run)
        (SCRATCH / "second-signal").rmdir()  # empty once every case passed


if __name__ == "__main__":
    unittest.main(verbosity=2)
