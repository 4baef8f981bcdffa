#!/usr/bin/python3
"""The 2x2 job, preempted twice at random steps (once by `scontrol requeue`: SIGTERM;
once by `scancel --signal=USR1`: the time-limit warning, after which rank 0 requeues
the job itself), finishes with parameters, optimizer state and EMA byte-identical to
the uninterrupted 2x2 run, and logs restart count 2."""
import random
import re
import shutil
import subprocess
import unittest

from slurm_testing import (ENV, REFERENCE_RUN, REFERENCE_STEPS, assert_same_state, job_info, job_output, log_text,
                           metrics, scratch, submit, wait_for_job, wait_for_log)


class Preemption(unittest.TestCase):
    def test_two_preemptions_resume_bit_exact(self):
        run = scratch("preempted")
        job = submit(run, 2, 2, sets=[f"train.steps={REFERENCE_STEPS}"])
        first = random.randint(5, 20)
        wait_for_log(run, rf"^step {first}/", 180, job)
        subprocess.run(["scontrol", "requeue", job], env=ENV, check=True, timeout=30)
        resumed = int(wait_for_log(run, r"resumed from \S+ \(step (\d+),", 180, job).group(1))
        self.assertGreaterEqual(resumed, first)
        second = random.randint(resumed + 3, min(resumed + 15, REFERENCE_STEPS - 10))
        wait_for_log(run, rf"^step {second}/", 120, job)
        subprocess.run(["scancel", "--signal=USR1", job], env=ENV, check=True, timeout=30)
        info = wait_for_job(job, 240)
        output = job_output(run, job)
        self.assertEqual(info["JobState"], "COMPLETED", output)
        self.assertEqual(info["Restarts"], "2")
        log = log_text(run)
        self.assertEqual(len(re.findall(r"stop requested \(SIGTERM\): checkpointed at step", log)), 1, log)
        self.assertEqual(len(re.findall(r"stop requested \(SIGUSR1\): checkpointed at step", log)), 1, log)
        self.assertIn(f"slurm: requeued job {job}; it resumes from this checkpoint", log)
        self.assertIn(f"slurm: job {job}, restart 2, nodes n[1-2]; n1: ranks 0-1; n2: ranks 2-3", log)
        self.assertEqual(len(re.findall(r"^resumed from", log, re.MULTILINE)), 2, log)
        restarts = [m["slurm_restart_count"] for m in metrics(run) if "slurm_restart_count" in m]
        self.assertEqual(restarts, [0, 1, 2])
        self.assertIn(f"step {REFERENCE_STEPS}/{REFERENCE_STEPS}", log)
        assert_same_state(self, run, REFERENCE_RUN)
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
