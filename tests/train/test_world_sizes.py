#!/usr/bin/python3
"""World-size invariance: the same run at 1, 2 and 4 ranks ends with the same parameters."""

from training_support import latest_checkpoint, read_vectors, train, TrainingTestCase, main


class WorldSizesTests(TrainingTestCase):
    def test_world_sizes_agree(self):
        conditional = ["model.num_classes=10", "model.label_dropout=0.5"]  # dropout keyed by sample position
        for name, config, sets in (("glow", "tiny-glow.toml", []), ("tarflow", "tiny-tarflow.toml", []),
                                   ("tarflow-conditional", "tiny-tarflow.toml", conditional)):
            with self.subTest(model=name):
                runs = [train(f"{name}-np{r}", r, config, sets)[0] for r in (1, 2, 4)]
                self.assert_same_parameters(runs, 1e-5)
                self.assertEqual(read_vectors(latest_checkpoint(runs[0]))[1]["global_state"]["step"], 20)


if __name__ == "__main__":
    main()
