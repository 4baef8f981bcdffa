#!/usr/bin/python3
"""A job whose time limit runs out before its step budget gets SIGUSR1 (--signal),
checkpoints, requeues itself and completes on a later run.

SLURM sends the warning at its first time-limit check (every 30 s) that finds the job
within --signal-seconds + 30 s of its limit, so when a run gets it varies by up to
30 s: the test asserts that every run before the last ended by the warning (never by
the kill at the limit) and that the job completed, not that exactly one requeue happened."""
import re
import shutil
import unittest

from slurm_testing import job_output, log_text, scratch, submit, wait_for_job

STEPS = 1500


class TimeLimit(unittest.TestCase):
    def test_signalled_checkpoints_requeues_and_completes(self):
        run = scratch("time-limit")
        job = submit(run, 1, 2, sets=[f"train.steps={STEPS}", "log.every_steps=50"], time_limit="00:01:00",
                     launcher="srun", extra=["--signal-seconds", "15"])
        info = wait_for_job(job, 330)
        output = job_output(run, job)
        self.assertEqual(info["JobState"], "COMPLETED", output)
        restarts = int(info["Restarts"])
        log = log_text(run)
        stops = re.findall(r"checkpointed at step (\d+)", log)
        print(f"job {job}: {restarts} restart(s); stopped at steps {stops}")
        self.assertGreaterEqual(restarts, 1, "the first run was never signalled:\n" + log)
        self.assertEqual(len(re.findall(r"^stop requested \(SIGUSR1\)", log, re.MULTILINE)), restarts, log)
        self.assertEqual(len(re.findall(rf"^slurm: requeued job {job};", log, re.MULTILINE)), restarts, log)
        self.assertNotIn("SIGTERM", log)
        self.assertNotIn("DUE TO TIME LIMIT", output)
        self.assertIn(f"slurm: job {job}, restart {restarts},", log)
        self.assertIn(f"step {STEPS}/{STEPS}", log)
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
