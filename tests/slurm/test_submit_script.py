#!/usr/bin/python3
"""`flowtrain submit`: the --dry-run script of a multi-node GPU job, line by line
(gres, one task per GPU, signal, requeue, launcher); the mpirun and --no-requeue
variants; and its errors: a config train would refuse, flags that contradict each
other, sbatch missing, sbatch refusing. None of them queues anything."""
import os
import shutil
import subprocess
import unittest

from slurm_testing import BINARY, CONFIGS, DATA, ENV, SCRATCH, scratch

CONFIG = CONFIGS / "tiny-glow.toml"


def submit(*args, env=ENV):
    return subprocess.run([BINARY, "submit", str(CONFIG)] + list(args), env=env, capture_output=True, text=True,
                          timeout=60)


class SubmitScript(unittest.TestCase):
    def setUp(self):
        self.scratch = scratch(f"submit-script/{self._testMethodName}")
        self.run_dir = self.scratch / "imagenet-run"

    def passed(self):
        shutil.rmtree(self.scratch)

    @classmethod
    def tearDownClass(cls):
        try:
            (SCRATCH / "submit-script").rmdir()  # empty once every test passed
        except OSError:
            pass

    def test_gpu_dry_run_script(self):
        result = submit("--nodes", "4", "--gpus-per-node", "8", "--cpus-per-task", "12", "--time", "24:00:00",
                        "--partition", "gpu", "--account", "vision", "--qos", "high", "--job-name", "tarflow-in64",
                        "--signal-seconds", "300", "--run-dir", str(self.run_dir), "--set", f"data.train={DATA / 'train'}",
                        "--set", "train.global_batch=256", "--dry-run")
        self.assertEqual(result.returncode, 0, result.stderr)
        run = str(self.run_dir)
        expected = [
            "#!/bin/bash",
            f"# Written by `flowtrain submit`. Submit again with: sbatch {run}/job.sbatch",
            "#SBATCH --job-name=tarflow-in64",
            "#SBATCH --nodes=4",
            "#SBATCH --ntasks-per-node=8",
            "#SBATCH --gres=gpu:8",
            "#SBATCH --cpus-per-task=12",
            "#SBATCH --time=24:00:00",
            "#SBATCH --partition=gpu",
            "#SBATCH --account=vision",
            "#SBATCH --qos=high",
            f"#SBATCH --chdir={os.getcwd()}",
            f"#SBATCH --output={run}/slurm-%j.out",
            f"#SBATCH --error={run}/slurm-%j.err",
            "#SBATCH --open-mode=append",
            "#SBATCH --requeue",
            "#SBATCH --signal=USR1@300",
            "",
            "# One OpenMP thread per CPU SLURM gave the task.",
            "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}",
            'echo "flowtrain job $SLURM_JOB_ID on $SLURM_JOB_NODELIST, restart ${SLURM_RESTART_COUNT:-0}, '
            '$(date -u +%FT%TZ)"',
            f"srun --mpi=pmix --kill-on-bad-exit=1 {BINARY} train {CONFIG} --set data.train={DATA / 'train'} "
            f"--set train.global_batch=256 --run-dir {run} --resume auto",
        ]
        self.assertEqual(result.stdout.splitlines(), expected)
        self.assertFalse(self.run_dir.exists(), "--dry-run created the run directory")
        self.passed()

    def test_mpirun_and_no_requeue(self):
        result = submit("--nodes", "2", "--tasks-per-node", "2", "--time", "1:00:00", "--launcher", "mpirun",
                        "--no-requeue", "--run-dir", str(self.run_dir), "--set", f"data.train={DATA / 'train'}",
                        "--set", "model.width=8 ", "--dry-run")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertIn("#SBATCH --no-requeue", lines)
        self.assertNotIn("#SBATCH --requeue", lines)
        self.assertIn("#SBATCH --signal=USR1@120", lines)
        self.assertNotIn("#SBATCH --gres", result.stdout)
        launch = lines[-1]
        self.assertTrue(launch.startswith("mpirun --bind-to none --mca odls_base_sigkill_timeout 10 "), launch)
        self.assertNotIn(" -np ", launch)  # the world is the allocation's tasks
        self.assertIn("--set 'model.width=8 '", launch)  # quoted for the shell
        self.assertTrue(launch.endswith(" --resume auto --no-requeue"), launch)
        self.passed()

    def assert_refused(self, result, *needles):
        self.assertNotEqual(result.returncode, 0, result.stdout)
        errors = [line for line in result.stderr.splitlines() if line.startswith("flowtrain: error:")]
        self.assertEqual(len(errors), 1, result.stderr)
        for needle in needles:
            self.assertIn(needle, errors[0])
        self.assertEqual(result.stdout, "")

    def test_checks_the_config_as_train_does(self):
        common = ["--nodes", "2", "--tasks-per-node", "2", "--time", "00:10:00", "--run-dir", str(self.run_dir)]
        self.assert_refused(submit(*common, "--set", f"data.train={DATA / 'train'}", "--set", "model.widht=8"),
                            "model.widht")
        self.assert_refused(submit(*common, "--set", "data.train=/nonexistent/data"), "data.train", "/nonexistent")
        self.assert_refused(submit(*common, "--set", f"data.train={DATA / 'train'}", "--set", "train.global_batch=6"),
                            "train.global_batch = 6", "4 ranks")
        self.assert_refused(submit(*common, "--set", f"data.train={DATA / 'train'}", "--set", "model.image_size=32"),
                            "model.image_size")
        self.assertFalse(self.run_dir.exists())
        self.passed()

    def test_contradicting_flags(self):
        data = ["--set", f"data.train={DATA / 'train'}", "--run-dir", str(self.run_dir)]
        self.assert_refused(submit("--nodes", "1", "--tasks-per-node", "4", "--gpus-per-node", "8", "--time", "1:00:00",
                                   *data), "--tasks-per-node 4", "--gpus-per-node 8")
        self.assert_refused(submit("--nodes", "1", "--tasks-per-node", "2", "--time", "00:01:00", "--signal-seconds",
                                   "120", *data), "--signal-seconds 120")
        self.assert_refused(submit("--nodes", "1", "--tasks-per-node", "2", "--time", "soon", *data), "--time 'soon'")
        self.passed()

    def test_sbatch_missing(self):
        env = dict(ENV, PATH="/nonexistent")
        result = submit("--nodes", "1", "--tasks-per-node", "2", "--time", "00:10:00", "--run-dir", str(self.run_dir),
                        "--set", f"data.train={DATA / 'train'}", env=env)
        self.assert_refused(result, "cannot run 'sbatch'", "job.sbatch")
        self.passed()

    def test_sbatch_refusing(self):
        result = submit("--nodes", "1", "--tasks-per-node", "2", "--time", "00:10:00", "--partition", "nosuch",
                        "--run-dir", str(self.run_dir), "--set", f"data.train={DATA / 'train'}")
        self.assert_refused(result, "sbatch refused", "nosuch")
        self.assertTrue((self.run_dir / "job.sbatch").exists())
        self.passed()


if __name__ == "__main__":
    unittest.main(verbosity=2)
