#!/usr/bin/python3
"""A job in which one rank cannot read its data (srun --multi-prog: rank 1 gets a
data.train that does not exist, rank 0 the real one) ends within 30 s, with that
rank's message in the job's output, instead of holding the allocation until the
time limit. (Start-up failures on ranks other than 0 must end the job: the fix
lives in the start-up path.)"""
import re
import shutil
import time
import unittest

from slurm_testing import dry_run_script, job_info, job_output, sbatch, scratch, wait_for_job

MISSING = "/nonexistent/fashion-mnist"


class RankCannotReadData(unittest.TestCase):
    def test_job_ends_with_the_ranks_message(self):
        run = scratch("rank-cannot-read")
        script = dry_run_script(run, 1, 2, launcher="srun")
        launch = next(line for line in script.splitlines() if line.startswith("srun "))
        srun, train = re.match(r"(srun .*?) (\S+ train .*)$", launch).groups()
        (run / "tasks.conf").write_text(f"0 {train}\n1 {train} --set data.train={MISSING}\n")
        (run / "job.sbatch").write_text(script.replace(launch, f"{srun} --multi-prog {run / 'tasks.conf'}"))
        job = sbatch(run / "job.sbatch")
        while job_info(job).get("JobState") in ("PENDING", None):
            time.sleep(0.2)
        started = time.time()
        info = wait_for_job(job, 45)
        elapsed = time.time() - started
        output = job_output(run, job)
        print(f"job {job} ended {info.get('JobState')} after {elapsed:.1f} s")
        self.assertLess(elapsed, 30, f"job {job} took {elapsed:.0f} s:\n{output}")
        self.assertNotEqual(info["JobState"], "COMPLETED", output)
        errors = [line for line in output.splitlines() if line.startswith("flowtrain: error:")]
        self.assertTrue(any(MISSING in line and "data.train" in line for line in errors), output)
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
