#!/usr/bin/python3
"""Resharding: a run resumed at 4, then 2, then 3 ranks matches an uninterrupted one."""

from training_support import train, TrainingTestCase, main


class ReshardTests(TrainingTestCase):
    def test_resharding_4_2_3_matches_uninterrupted(self):
        sets = ["train.zero1=true"]
        straight, _ = train("reshard-straight", 1, sets=sets + ["train.steps=30"])
        run, _ = train("reshard", 4, sets=sets + ["train.steps=10"])
        run, out2 = train("reshard", 2, sets=sets + ["train.steps=20"])
        run, out3 = train("reshard", 3, sets=sets + ["train.steps=30"])
        self.assertIn("written by 4 ranks, now 2", out2.stdout)
        self.assertIn("written by 2 ranks, now 3", out3.stdout)
        self.assert_same_parameters([straight, run], 1e-5)
        self.assert_same_parameters([straight, run], 1e-4, vector="optimizer/exp_avg_sq")


if __name__ == "__main__":
    main()
