#!/usr/bin/python3
"""Stop signals: SIGUSR1 on one rank checkpoints on every rank and exits 75."""
import json
import os
import signal
import subprocess
import time

from training_support import BINARY, CONFIGS, DATA, ENV, MPIEXEC, SCRATCH, latest_checkpoint, TrainingTestCase, main


class SignalsTests(TrainingTestCase):
    def test_stop_signal_checkpoints_on_every_rank_and_exits_75(self):
        run_dir = SCRATCH / "runs" / "signal"
        command = [MPIEXEC, "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS",
                   "-x", "OMP_WAIT_POLICY", BINARY, "train", str(CONFIGS / "tiny-glow.toml"), "--run-dir",
                   str(run_dir), "--set", f"data.train={DATA / 'train'}", "--set", "train.steps=100000",
                   "--set", "log.every_steps=1"]
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        log = run_dir / "log.txt"
        deadline = time.time() + 120
        while time.time() < deadline and not (log.exists() and "step 3/" in log.read_text()):
            time.sleep(0.2)
        ranks = subprocess.run(["pgrep", "-f", f"{BINARY} train .*{run_dir}"], capture_output=True, text=True)
        pids = [int(p) for p in ranks.stdout.split() if int(p) != process.pid]
        self.assertGreaterEqual(len(pids), 2, ranks.stdout)
        os.kill(pids[-1], signal.SIGUSR1)  # one rank only
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 75, stdout + stderr)
        self.assertIn("stop requested (SIGUSR1)", stdout)
        checkpoint = latest_checkpoint(run_dir)
        self.assertTrue((checkpoint / "COMMITTED").exists())
        step = json.loads((checkpoint / "manifest.json").read_text())["global_state"]["step"]
        self.assertGreaterEqual(step, 3)


if __name__ == "__main__":
    main()
