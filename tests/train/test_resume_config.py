#!/usr/bin/python3
"""Resume checks the config: a changed shape is refused (the checkpoint kept), a changed
learning rate or step count is taken and reported."""
import json

from training_support import latest_checkpoint, train, TrainingTestCase, main


class ResumeConfigTests(TrainingTestCase):
    def test_resume_checks_the_config(self):
        run, _ = train("glow-config-change", 1, sets=["train.steps=5"])
        _, changed_shape = train("glow-config-change", 1, sets=["train.steps=10", "model.width=8"], check=False)
        self.assertEqual(changed_shape.returncode, 1)
        self.assertIn("model.width", changed_shape.stderr)
        self.assertEqual(json.loads((latest_checkpoint(run) / "manifest.json").read_text())["step"], 5)
        _, changed_lr = train("glow-config-change", 1, sets=["train.steps=10", "optim.lr=0.0005"])
        self.assertIn("resume: optim.lr changed from 0.001 to 0.0005", changed_lr.stdout)
        self.assertIn("resume: train.steps changed from 5 to 10", changed_lr.stdout)
        self.assertEqual(json.loads((latest_checkpoint(run) / "manifest.json").read_text())["step"], 10)



if __name__ == "__main__":
    main()
