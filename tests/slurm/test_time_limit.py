#!/usr/bin/python3
"""A job whose time limit runs out before its step budget gets SIGUSR1 (--signal),
checkpoints, requeues itself, and completes on the next run.

SLURM sends the warning at its first time-limit check (every 30 s) that finds the job
within --signal-seconds + 30 s of its limit: with a 1-minute limit and 5 s, some time
25 to 55 s into a run. The first run's budget cannot be reached by then; while the
job waits to restart, the test lowers train.steps in the config file the job reads
at each start to 20 steps past the checkpoint, which the second run finishes long
before its own warning could come."""
import re
import shutil
import time
import unittest

from slurm_testing import CONFIGS, job_info, job_output, log_text, scratch, submit, wait_for_job, wait_for_log


def write_config(path, steps):
    text = (CONFIGS / "tiny-glow.toml").read_text()
    path.write_text(re.sub(r"(?m)^steps = \d+$", f"steps = {steps}", text))


class TimeLimit(unittest.TestCase):
    def test_signalled_checkpoints_requeues_and_completes(self):
        run = scratch("time-limit")
        config = run.parent / "time-limit.toml"
        write_config(config, 1000000)
        job = submit(run, 1, 2, sets=["log.every_steps=50"], config=config, time_limit="00:01:00", launcher="srun",
                     extra=["--signal-seconds", "5"])
        stopped = int(wait_for_log(run, r"^stop requested \(SIGUSR1\): checkpointed at step (\d+)", 100, job).group(1))
        wait_for_log(run, rf"^slurm: requeued job {job};", 30, job)
        steps = stopped + 20
        write_config(config, steps)
        info = wait_for_job(job, 120)
        output = job_output(run, job)
        log = log_text(run)
        self.assertEqual(info["JobState"], "COMPLETED", output)
        self.assertEqual(info["Restarts"], "1")
        self.assertEqual(len(re.findall(r"^stop requested", log, re.MULTILINE)), 1, log)
        self.assertIn(f"resumed from {run}/checkpoints/step_{stopped:08d} (step {stopped},", log)
        self.assertIn(f"slurm: job {job}, restart 1,", log)
        self.assertIn(f"step {steps}/{steps}", log)
        self.assertNotIn("TIME LIMIT", output)
        config.unlink()
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
