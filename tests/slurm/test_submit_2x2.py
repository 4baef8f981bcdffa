#!/usr/bin/python3
"""A 2-node x 2-task job submitted with `flowtrain submit` trains the tiny Glow to its
step budget and exits 0; its log shows the 4 ranks on n1 and n2. Its run directory
is kept for the preemption and 1x4 tests (the fixture slurm_run_2x2)."""
import json
import shutil
import unittest

from slurm_testing import (REFERENCE_RUN, REFERENCE_STEPS, job_output, latest_checkpoint, log_text, metrics, submit,
                           wait_for_job)


class Submit2x2(unittest.TestCase):
    def test_two_nodes_two_tasks_train_to_the_budget(self):
        shutil.rmtree(REFERENCE_RUN, ignore_errors=True)
        job = submit(REFERENCE_RUN, 2, 2, sets=[f"train.steps={REFERENCE_STEPS}"])
        info = wait_for_job(job, 240)
        self.assertEqual(info["JobState"], "COMPLETED", job_output(REFERENCE_RUN, job))
        self.assertEqual(info["ExitCode"], "0:0")
        self.assertTrue((REFERENCE_RUN / "job.sbatch").exists())
        self.assertTrue((REFERENCE_RUN / f"slurm-{job}.out").exists())
        log = log_text(REFERENCE_RUN)
        self.assertIn(f"step {REFERENCE_STEPS}/{REFERENCE_STEPS}", log)
        self.assertIn(f"slurm: job {job}, restart 0, nodes n[1-2]; n1: ranks 0-1; n2: ranks 2-3", log)
        record = next(m for m in metrics(REFERENCE_RUN) if "slurm_job_id" in m)
        self.assertEqual(record["slurm_job_id"], job)
        self.assertEqual(record["rank_nodes"], ["n1", "n1", "n2", "n2"])
        self.assertEqual(record["slurm_restart_count"], 0)
        manifest = json.loads((latest_checkpoint(REFERENCE_RUN) / "manifest.json").read_text())
        self.assertEqual(manifest["step"], REFERENCE_STEPS)
        self.assertEqual(manifest["world_size"], 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
