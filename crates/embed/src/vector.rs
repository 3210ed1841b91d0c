//! Vector math on embeddings: cosine similarity, the element-wise mean as an
//! aggregate state, softmax and top-k. Sums run in f64 so that a 1280-wide
//! dot product or a mean over millions of rows loses nothing visible in f32.

use std::fmt;

/// A vector argument that has no answer: different lengths, empty, a
/// non-finite element, a zero vector. `Display` is an errmsg (the glue
/// reports it as 22023).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorError(String);

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VectorError {}

fn check_finite(v: &[f32], what: &str) -> Result<(), VectorError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => {
            // spelled as Postgres spells them, not as Rust does ("inf")
            let value = match v[i] {
                x if x.is_nan() => "NaN",
                x if x > 0.0 => "Infinity",
                _ => "-Infinity",
            };
            Err(VectorError(format!(
                "{what} has a non-finite value ({value}) at position {}",
                i + 1
            )))
        }
        None => Ok(()),
    }
}

/// Cosine of the angle between `a` and `b`, in [-1, 1]. Both must have the
/// same, non-zero length, finite values and a non-zero norm: there is no
/// angle otherwise, and an error says so where NaN would poison an ORDER BY.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Result<f64, VectorError> {
    if a.len() != b.len() {
        return Err(VectorError(format!(
            "vectors have different lengths: {} and {}",
            a.len(),
            b.len()
        )));
    }
    if a.is_empty() {
        return Err(VectorError(
            "cosine similarity of empty vectors is undefined".into(),
        ));
    }
    check_finite(a, "the first vector")?;
    check_finite(b, "the second vector")?;
    let (mut dot, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        let which = if aa == 0.0 { "first" } else { "second" };
        return Err(VectorError(format!(
            "cosine similarity with a zero vector is undefined (the {which} vector is all zeros)"
        )));
    }
    // rounding can put parallel vectors a hair outside [-1, 1]
    Ok((dot / (aa * bb).sqrt()).clamp(-1.0, 1.0))
}

/// The running state of an element-wise mean, laid out as one `float8[]`
/// (`[rows, sum_1, ..., sum_n]`, empty before the first row) so Postgres can
/// hand it between parallel workers without serialisation functions.
pub fn mean_accumulate(state: &mut Vec<f64>, row: &[f32]) -> Result<(), VectorError> {
    if row.is_empty() {
        return Err(VectorError("cannot average an empty embedding".into()));
    }
    check_finite(row, "the embedding")?;
    if state.is_empty() {
        state.resize(row.len() + 1, 0.0);
    } else if state.len() != row.len() + 1 {
        return Err(mismatch(state.len() - 1, row.len()));
    }
    state[0] += 1.0;
    for (s, &x) in state[1..].iter_mut().zip(row) {
        *s += f64::from(x);
    }
    Ok(())
}

/// Merges two mean states (see [`mean_accumulate`]) into `a`.
pub fn mean_combine(a: &mut Vec<f64>, b: &[f64]) -> Result<(), VectorError> {
    if b.is_empty() {
        return Ok(());
    }
    if a.is_empty() {
        a.extend_from_slice(b);
        return Ok(());
    }
    if a.len() != b.len() {
        return Err(mismatch(a.len() - 1, b.len() - 1));
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    Ok(())
}

/// The element-wise mean of the rows a state has seen; `None` for no rows.
/// Not re-normalised: the mean of unit vectors is shorter than 1 (the more
/// they disagree, the shorter), which cosine ignores and a dot product does not.
pub fn mean_finish(state: &[f64]) -> Option<Vec<f32>> {
    let (&rows, sums) = state.split_first()?;
    Some(sums.iter().map(|s| (s / rows) as f32).collect())
}

fn mismatch(earlier: usize, now: usize) -> VectorError {
    VectorError(format!(
        "embeddings have different lengths: {earlier} and {now}"
    ))
}

/// Softmax of logits, with the largest subtracted first so `exp` never overflows.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&x| f64::from(x - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / sum) as f32).collect()
}

/// The `k` largest values with their indices, largest first (ties: lower
/// index first); all of them when `k` exceeds the length.
pub fn top_k(values: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert_eq!(cosine_similarity(&[1.0, 0.0], &[0.0, 2.0]), Ok(0.0));
        assert_eq!(cosine_similarity(&[1.0, 2.0], &[2.0, 4.0]), Ok(1.0));
        assert_eq!(cosine_similarity(&[1.0, 2.0], &[-3.0, -6.0]), Ok(-1.0));
        let c = cosine_similarity(&[1.0, 1.0], &[1.0, 0.0]).unwrap();
        assert!((c - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12, "{c}");
    }

    #[test]
    fn cosine_refuses_what_has_no_angle() {
        let msg = |r: Result<f64, VectorError>| r.unwrap_err().to_string();
        assert_eq!(
            msg(cosine_similarity(&[1.0, 2.0, 3.0], &[1.0, 2.0])),
            "vectors have different lengths: 3 and 2"
        );
        assert!(msg(cosine_similarity(&[], &[])).contains("empty"));
        assert!(msg(cosine_similarity(&[0.0, 0.0], &[1.0, 0.0]))
            .contains("the first vector is all zeros"));
        assert!(msg(cosine_similarity(&[1.0, 0.0], &[0.0, 0.0]))
            .contains("the second vector is all zeros"));
        assert_eq!(
            msg(cosine_similarity(&[1.0, f32::NAN], &[1.0, 0.0])),
            "the first vector has a non-finite value (NaN) at position 2"
        );
        assert!(
            msg(cosine_similarity(&[1.0, 0.0], &[f32::INFINITY, 0.0])).contains("second vector")
        );
    }

    #[test]
    fn cosine_of_tiny_values_does_not_underflow() {
        // f32 products of 1e-30 underflow to zero; the f64 sums keep them
        let c = cosine_similarity(&[1e-30, 2e-30], &[2e-30, 4e-30]).unwrap();
        assert!((c - 1.0).abs() < 1e-12, "{c}");
    }

    #[test]
    fn mean_of_rows_in_any_grouping() {
        let rows: [&[f32]; 3] = [&[1.0, 2.0], &[3.0, 6.0], &[5.0, 1.0]];
        let mut all = Vec::new();
        for r in rows {
            mean_accumulate(&mut all, r).unwrap();
        }
        assert_eq!(mean_finish(&all), Some(vec![3.0, 3.0]));
        // as parallel workers would: two partial states, combined
        let (mut a, mut b) = (Vec::new(), Vec::new());
        mean_accumulate(&mut a, rows[0]).unwrap();
        mean_accumulate(&mut b, rows[1]).unwrap();
        mean_accumulate(&mut b, rows[2]).unwrap();
        mean_combine(&mut a, &b).unwrap();
        assert_eq!(a, all);
        let mut empty = Vec::new();
        mean_combine(&mut empty, &[]).unwrap();
        assert_eq!(mean_finish(&empty), None);
        mean_combine(&mut empty, &all).unwrap();
        assert_eq!(empty, all);
    }

    #[test]
    fn mean_refuses_mixed_lengths_and_bad_values() {
        let mut s = Vec::new();
        mean_accumulate(&mut s, &[1.0, 2.0]).unwrap();
        assert_eq!(
            mean_accumulate(&mut s, &[1.0]).unwrap_err().to_string(),
            "embeddings have different lengths: 2 and 1"
        );
        let mut other = Vec::new();
        mean_accumulate(&mut other, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            mean_combine(&mut s, &other).unwrap_err().to_string(),
            "embeddings have different lengths: 2 and 3"
        );
        assert!(mean_accumulate(&mut s, &[]).is_err());
        assert!(mean_accumulate(&mut s, &[f32::NAN, 1.0]).is_err());
        // a refused row leaves the state as it was
        assert_eq!(s, vec![1.0, 1.0, 2.0]);
    }

    #[test]
    fn softmax_of_large_logits_is_finite_and_sums_to_one() {
        let p = softmax(&[1000.0, 999.0, -1000.0]);
        assert!(p.iter().all(|x| x.is_finite()));
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((p[0] / p[1] - std::f32::consts::E).abs() < 1e-4);
        assert_eq!(p[2], 0.0);
    }

    #[test]
    fn top_k_is_descending_with_stable_ties() {
        let v = [0.1, 0.5, 0.2, 0.5];
        assert_eq!(top_k(&v, 3), vec![(1, 0.5), (3, 0.5), (2, 0.2)]);
        assert_eq!(top_k(&v, 10).len(), 4);
    }
}
