"""Scores and baselines for the benchmarks, the same code for product and peer.

Standard library only, so `make test` can check it against hand-computed
cases (bench/test_scoring.py) without the benchmark's venv.
"""

import math


def smape(actual, forecast):
    """Mean over the horizon of 200*|y-f|/(|y|+|f|), in percent; a step where
    both are 0 is a perfect forecast and scores 0."""
    terms = []
    for y, f in zip(actual, forecast, strict=True):
        denominator = abs(y) + abs(f)
        terms.append(0.0 if denominator == 0 else 200.0 * abs(y - f) / denominator)
    return sum(terms) / len(terms)


def seasonal_naive_scale(train, period):
    """In-sample mean absolute error of the seasonal-naive forecast (lag =
    period). A series no longer than its period uses lag 1 instead; None when
    the scale is 0 (a flat history), since MASE is then undefined."""
    lag = period if len(train) > period else 1
    errors = [abs(train[t] - train[t - lag]) for t in range(lag, len(train))]
    if not errors:
        return None
    scale = sum(errors) / len(errors)
    return scale if scale > 0 else None


def mase(train, actual, forecast, period):
    """Mean absolute error over the horizon divided by seasonal_naive_scale;
    None when that scale is undefined."""
    scale = seasonal_naive_scale(train, period)
    if scale is None:
        return None
    errors = [abs(y - f) for y, f in zip(actual, forecast, strict=True)]
    return sum(errors) / len(errors) / scale


def coverage(actual, lower, upper):
    """Share of horizon steps whose actual value lies inside [lower, upper]."""
    inside = [lo <= y <= hi for y, lo, hi in zip(actual, lower, upper, strict=True)]
    return sum(inside) / len(inside)


def naive(train, horizon):
    """The last value, repeated."""
    return [train[-1]] * horizon


def seasonal_naive(train, horizon, period):
    """The value one season earlier; plain naive when there is no full season."""
    if period <= 1 or len(train) < period:
        return naive(train, horizon)
    last_season = train[-period:]
    return [last_season[i % period] for i in range(horizon)]


def autocorrelation(x, lag):
    mean = sum(x) / len(x)
    denominator = sum((v - mean) ** 2 for v in x)
    if denominator == 0:
        return 0.0
    numerator = sum((x[t] - mean) * (x[t - lag] - mean) for t in range(lag, len(x)))
    return numerator / denominator


def is_seasonal(train, period):
    """The M4 competition's test: the autocorrelation at lag `period` exceeds
    the 90% one-sided limit 1.645*sqrt((1 + 2*sum_{k<period} r_k^2)/n);
    series shorter than three seasons count as not seasonal."""
    n = len(train)
    if period <= 1 or n < 3 * period:
        return False
    r = [autocorrelation(train, k) for k in range(1, period + 1)]
    limit = 1.645 * math.sqrt((1 + 2 * sum(v * v for v in r[:-1])) / n)
    return abs(r[-1]) > limit


def seasonal_indices(train, period):
    """Classical multiplicative decomposition: the ratio of each value to the
    centred moving average (2 x period when the period is even), averaged per
    position in the season and normalised to mean 1. Index i belongs to the
    positions t with t % period == i."""
    n = len(train)
    half = period // 2
    ratios = [[] for _ in range(period)]
    for t in range(half, n - half):
        if period % 2:
            window = train[t - half:t + half + 1]
            trend = sum(window) / period
        else:
            window = train[t - half:t + half + 1]
            trend = (sum(window[1:-1]) + 0.5 * (window[0] + window[-1])) / period
        ratios[t % period].append(train[t] / trend)
    averages = [sum(r) / len(r) for r in ratios]
    mean = sum(averages) / period
    return [a / mean for a in averages]


def naive2(train, horizon, period):
    """The M4 competition's Naive2: naive on the seasonally adjusted series,
    reseasonalised, when the series passes is_seasonal; plain naive otherwise
    (also when a moving average is not positive, where ratios mean nothing)."""
    if not is_seasonal(train, period) or min(train) <= 0:
        return naive(train, horizon)
    indices = seasonal_indices(train, period)
    n = len(train)
    level = train[-1] / indices[(n - 1) % period]
    return [level * indices[(n + i) % period] for i in range(horizon)]


def inertia(rows, labels):
    """Total within-cluster sum of squared distances to each cluster's mean,
    for any rows (sequences of floats) and one label per row."""
    sums, counts = {}, {}
    for row, label in zip(rows, labels, strict=True):
        if label not in sums:
            sums[label] = [0.0] * len(row)
            counts[label] = 0
        s = sums[label]
        for j, v in enumerate(row):
            s[j] += v
        counts[label] += 1
    means = {label: [v / counts[label] for v in s] for label, s in sums.items()}
    total = 0.0
    for row, label in zip(rows, labels):
        m = means[label]
        total += sum((v - c) ** 2 for v, c in zip(row, m))
    return total


def median(values):
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
