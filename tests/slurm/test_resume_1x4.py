#!/usr/bin/python3
"""A 1-node x 4-task job (srun --mpi=pmix, the default launcher) resumes the 2x2
job's checkpoint and trains on to a larger step budget."""
import re
import shutil
import unittest

from slurm_testing import (REFERENCE_RUN, REFERENCE_STEPS, job_output, latest_checkpoint, log_text, read_vectors,
                           scratch, submit, wait_for_job)


class Resume1x4(unittest.TestCase):
    def test_one_node_resumes_two_nodes_checkpoint(self):
        run = scratch("resume-1x4")
        shutil.copytree(REFERENCE_RUN / "checkpoints", run / "checkpoints")
        steps = REFERENCE_STEPS + 20
        job = submit(run, 1, 4, sets=[f"train.steps={steps}"], launcher="srun")
        info = wait_for_job(job, 240)
        self.assertEqual(info["JobState"], "COMPLETED", job_output(run, job))
        log = log_text(run)
        self.assertIn(f"(step {REFERENCE_STEPS}, written by 4 ranks, now 4)", log)
        self.assertIn(f"slurm: job {job}, restart 0, nodes n1; n1: ranks 0-3", log)
        self.assertIn(f"step {steps}/{steps}", log)
        first = re.search(r"^step (\d+)/", log, re.MULTILINE)
        self.assertEqual(int(first.group(1)), REFERENCE_STEPS + 1)
        _, manifest = read_vectors(latest_checkpoint(run))
        self.assertEqual(manifest["global_state"]["step"], steps)
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
