#!/usr/bin/python3
"""Bucketed, unbucketed and ZeRO-1 gradient reductions give the same training."""

from training_support import train, TrainingTestCase, main


class ReductionsTests(TrainingTestCase):
    def test_bucketed_unbucketed_and_zero1_agree(self):
        plain, _ = train("glow-buckets-0", 2, sets=["train.bucket_mb=0"])
        tiny_buckets, _ = train("glow-buckets-tiny", 2, sets=["train.bucket_mb=0.002"])
        zero1, _ = train("glow-zero1", 2, sets=["train.zero1=true"])
        self.assert_same_parameters([plain, tiny_buckets], 1e-6)
        self.assert_same_parameters([plain, zero1], 1e-6)
        self.assert_same_parameters([plain, zero1], 1e-6, vector="optimizer/exp_avg")


if __name__ == "__main__":
    main()
