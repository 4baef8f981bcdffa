#!/usr/bin/python3
"""A job whose launch does not start one MPI world of the job's tasks fails fast
with one line per world saying so: srun without PMI (each task a world of one), and
mpirun -np 2 in a 4-task allocation."""
import shutil
import time
import unittest

from slurm_testing import dry_run_script, job_info, job_output, sbatch, scratch, wait_for_job


class WrongTaskCount(unittest.TestCase):
    def run_edited(self, name, nodes, tasks, launcher, old, new):
        run = scratch(name)
        script = dry_run_script(run, nodes, tasks, launcher=launcher)
        self.assertIn(old, script)
        (run / "job.sbatch").write_text(script.replace(old, new))
        job = sbatch(run / "job.sbatch")
        while job_info(job).get("JobState") in ("PENDING", None):
            time.sleep(0.2)
        started = time.time()
        info = wait_for_job(job, 60)
        elapsed = time.time() - started
        output = job_output(run, job)
        self.assertEqual(info["JobState"], "FAILED", output)
        self.assertLess(elapsed, 30, output)
        self.assertFalse(any((run / "checkpoints").glob("step_*")) if (run / "checkpoints").exists() else False)
        return run, [line for line in output.splitlines() if line.startswith("flowtrain: error:")]

    def test_srun_without_pmi(self):
        run, errors = self.run_edited("srun-no-pmi", 1, 2, "srun", "srun --mpi=pmix", "srun --mpi=none")
        self.assertEqual(len(errors), 2, errors)  # one per task: each is rank 0 of its own world
        for line in errors:
            self.assertRegex(line, r"srun started 2 tasks \(SLURM job \d+, step \d+\) without PMI.*"
                                   r"srun --mpi=pmix")
        shutil.rmtree(run)

    def test_mpirun_with_fewer_ranks_than_tasks(self):
        run, errors = self.run_edited("mpirun-np2", 2, 2, "mpirun", "mpirun --bind-to", "mpirun -np 2 --bind-to")
        self.assertEqual(len(errors), 1, errors)
        self.assertRegex(errors[0], r"has 4 task slots of the allocation \(OMPI_UNIVERSE_SIZE\) but the MPI world has "
                                    r"2 ranks")
        shutil.rmtree(run)


if __name__ == "__main__":
    unittest.main(verbosity=2)
