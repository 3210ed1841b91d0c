"""Hand-computed cases for bench/scoring.py; run by `make test` (tier 1)."""

import unittest

import scoring


class ForecastScores(unittest.TestCase):
    def test_smape(self):
        # 200*|100-110|/210 = 9.5238..., 200*|50-40|/90 = 22.2222...
        self.assertAlmostEqual(scoring.smape([100, 50], [110, 40]), (2000 / 210 + 2000 / 90) / 2)
        # Both zero is a perfect step; one zero is the maximum, 200.
        self.assertEqual(scoring.smape([0, 0], [0, 5]), 100.0)

    def test_mase_uses_the_seasonal_lag(self):
        train = [1, 2, 3, 5, 4, 6]  # lag-2 differences: 2, 3, 1, 1 -> scale 7/4
        self.assertAlmostEqual(scoring.seasonal_naive_scale(train, 2), 1.75)
        # errors 1 and 2.5 -> MAE 1.75 -> MASE 1
        self.assertAlmostEqual(scoring.mase(train, [7, 8], [6, 10.5], 2), 1.0)

    def test_mase_short_or_flat_history(self):
        # Not longer than the period: lag 1, differences 1, 1.
        self.assertAlmostEqual(scoring.seasonal_naive_scale([1, 2, 3], 4), 1.0)
        self.assertIsNone(scoring.mase([5, 5, 5], [6], [5], 1))

    def test_coverage(self):
        self.assertAlmostEqual(scoring.coverage([1, 5, 9, 4], [0, 0, 0, 4], [2, 4, 10, 4]), 0.75)


class Baselines(unittest.TestCase):
    def test_naive_and_seasonal_naive(self):
        self.assertEqual(scoring.naive([1, 2, 3], 2), [3, 3])
        self.assertEqual(scoring.seasonal_naive([1, 2, 3, 4, 5], 5, 2), [4, 5, 4, 5, 4])
        self.assertEqual(scoring.seasonal_naive([1, 2, 3], 2, 1), [3, 3])

    def test_seasonal_indices_of_an_exact_pattern(self):
        # A flat level times indices (0.5, 1.5): the centred moving average
        # is the level, so the ratios give the indices back.
        train = [10 * f for f in [0.5, 1.5] * 4]
        for got, want in zip(scoring.seasonal_indices(train, 2), [0.5, 1.5]):
            self.assertAlmostEqual(got, want)
        # Odd period: 3-term average of (1, 2, 3) pattern is 2.
        train = [1, 2, 3] * 3
        for got, want in zip(scoring.seasonal_indices(train, 3), [0.5, 1.0, 1.5]):
            self.assertAlmostEqual(got, want)

    def test_seasonality_test(self):
        self.assertTrue(scoring.is_seasonal([1, 2, 3, 4] * 6, 4))
        self.assertFalse(scoring.is_seasonal(list(range(1, 25)), 1))
        self.assertFalse(scoring.is_seasonal([1, 2, 3, 4] * 2, 4))  # under 3 seasons

    def test_naive2(self):
        train = [1, 2, 3, 4] * 6
        # Indices are 0.4, 0.8, 1.2, 1.6 (mean 2.5); the last value 4 at
        # index 1.6 gives level 2.5, and the next season repeats the pattern.
        for got, want in zip(scoring.naive2(train, 5, 4), [1, 2, 3, 4, 1]):
            self.assertAlmostEqual(got, want)
        # Not seasonal: plain naive.
        self.assertEqual(scoring.naive2([3, 1, 4, 1, 5], 2, 1), [5, 5])


class Clustering(unittest.TestCase):
    def test_inertia(self):
        rows = [[0, 0], [2, 0], [10, 10], [10, 12], [11, 11]]
        # Cluster a: mean (1, 0), 1 + 1. Cluster b: mean (31/3, 11):
        # x deviations -1/3, -1/3, 2/3 -> 6/9; y deviations -1, 1, 0 -> 2.
        self.assertAlmostEqual(scoring.inertia(rows, ["a", "a", "b", "b", "b"]), 2 + 2 / 3 + 2)

    def test_median(self):
        self.assertEqual(scoring.median([3, 1, 2]), 2)
        self.assertEqual(scoring.median([4, 1, 2, 3]), 2.5)


if __name__ == "__main__":
    unittest.main()
