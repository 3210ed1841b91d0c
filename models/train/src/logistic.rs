//! L2-regularised logistic regression on sparse rows, fitted by Newton's
//! method whose steps are solved by conjugate gradients, in one thread
//! with a fixed order of operations, so the same data always gives
//! bit-identical weights.

/// One example: (feature index, value) pairs.
pub type Row = Vec<(usize, f64)>;

/// Weights and intercept of a fitted model: P(y = 1 | x) = sigmoid(w·x + b).
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    pub weights: Vec<f64>,
    pub bias: f64,
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn dot(w: &[f64], x: &Row) -> f64 {
    x.iter().map(|&(j, v)| w[j] * v).sum()
}

/// log(1 + e^z), without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

impl Logistic {
    pub fn probability(&self, x: &Row) -> f64 {
        sigmoid(self.bias + dot(&self.weights, x))
    }
}

/// sum_i log-loss(y_i, w·x_i + b) + (lambda / 2)·|w|² at theta = (w, b).
fn objective(x: &[Row], y: &[bool], lambda: f64, theta: &[f64]) -> f64 {
    let d = theta.len() - 1;
    let loss: f64 = x
        .iter()
        .zip(y)
        .map(|(xi, &yi)| {
            let z = theta[d] + dot(&theta[..d], xi);
            softplus(if yi { -z } else { z })
        })
        .sum();
    loss + 0.5 * lambda * theta[..d].iter().map(|t| t * t).sum::<f64>()
}

/// Minimises `objective` (the intercept is not penalised) from zero over
/// `dims` features. Each Newton step solves H·s = g by conjugate gradients,
/// which needs only Hessian-vector products, so a step costs a multiple of
/// the non-zeros rather than dims²; a halving line search keeps every step
/// downhill. Stops when a step's largest component is below 1e-10, or
/// after 100 steps.
pub fn fit(x: &[Row], y: &[bool], dims: usize, lambda: f64) -> Logistic {
    assert_eq!(x.len(), y.len());
    let d = dims;
    let p = d + 1; // the intercept is parameter d
    let mut theta = vec![0.0; p];
    for _ in 0..100 {
        let mut gradient = vec![0.0; p];
        let mut curvature = Vec::with_capacity(x.len());
        for (xi, &yi) in x.iter().zip(y) {
            let mu = sigmoid(theta[d] + dot(&theta[..d], xi));
            let residual = mu - if yi { 1.0 } else { 0.0 };
            for &(j, v) in xi {
                gradient[j] += residual * v;
            }
            gradient[d] += residual;
            curvature.push(mu * (1.0 - mu));
        }
        for j in 0..d {
            gradient[j] += lambda * theta[j];
        }
        let hessian_times = |v: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; p];
            for (xi, &c) in x.iter().zip(&curvature) {
                let xv = c * (v[d] + dot(&v[..d], xi));
                for &(j, value) in xi {
                    out[j] += xv * value;
                }
                out[d] += xv;
            }
            for j in 0..d {
                out[j] += lambda * v[j];
            }
            // A tiny ridge on the intercept keeps the system positive
            // definite when one class is absent.
            out[d] += 1e-9 * v[d];
            out
        };
        let step = conjugate_gradients(hessian_times, &gradient);
        let before = objective(x, y, lambda, &theta);
        let mut scale = 1.0;
        let mut candidate: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t - s).collect();
        while objective(x, y, lambda, &candidate) > before && scale > 1e-6 {
            scale *= 0.5;
            candidate = theta.iter().zip(&step).map(|(t, s)| t - scale * s).collect();
        }
        let largest = step.iter().fold(0.0_f64, |m, s| m.max((scale * s).abs()));
        theta = candidate;
        if largest < 1e-10 {
            break;
        }
    }
    Logistic { bias: theta[d], weights: theta[..d].to_vec() }
}

/// Solves A·s = g for symmetric positive definite A, given as the product
/// `a_times`, until the residual is 1e-12 of |g| (or after 1,000 rounds).
fn conjugate_gradients(a_times: impl Fn(&[f64]) -> Vec<f64>, g: &[f64]) -> Vec<f64> {
    let norm2 = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let mut s = vec![0.0; g.len()];
    let mut residual = g.to_vec();
    let mut direction = residual.clone();
    let mut rr = norm2(&residual);
    let tolerance = 1e-24 * rr;
    for _ in 0..1000 {
        if rr <= tolerance || rr == 0.0 {
            break;
        }
        let ad = a_times(&direction);
        let alpha = rr / direction.iter().zip(&ad).map(|(a, b)| a * b).sum::<f64>();
        s.iter_mut().zip(&direction).for_each(|(si, di)| *si += alpha * di);
        residual.iter_mut().zip(&ad).for_each(|(ri, ai)| *ri -= alpha * ai);
        let next = norm2(&residual);
        let beta = next / rr;
        direction.iter_mut().zip(&residual).for_each(|(di, ri)| *di = ri + beta * *di);
        rr = next;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(x: &[Vec<f64>]) -> Vec<Row> {
        x.iter().map(|xi| xi.iter().copied().enumerate().collect()).collect()
    }

    #[test]
    fn solves_a_small_system() {
        // [[4, 2], [2, 3]] s = [2, 1] -> s = [0.5, 0]
        let a_times = |v: &[f64]| vec![4.0 * v[0] + 2.0 * v[1], 2.0 * v[0] + 3.0 * v[1]];
        let s = conjugate_gradients(a_times, &[2.0, 1.0]);
        assert!((s[0] - 0.5).abs() < 1e-12 && s[1].abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn balanced_symmetric_data_gives_zero_intercept() {
        // Mirror-image points: the optimum has b = 0 and w > 0.
        let x = rows(&[vec![-2.0], vec![-1.0], vec![1.0], vec![2.0], vec![-0.5], vec![0.5]]);
        let y = vec![false, false, true, true, true, false];
        let m = fit(&x, &y, 1, 0.1);
        assert!(m.bias.abs() < 1e-9, "{m:?}");
        assert!(m.weights[0] > 0.0);
        // At the optimum the gradient vanishes: sum (mu - y) x + lambda w = 0.
        let g: f64 = x.iter().zip(&y).map(|(xi, &yi)| (m.probability(xi) - yi as u8 as f64) * xi[0].1).sum();
        assert!((g + 0.1 * m.weights[0]).abs() < 1e-9);
    }

    #[test]
    fn separable_data_stays_finite_and_sparse_features_get_weight() {
        // Feature 3 alone separates the classes; features 1 and 2 never occur.
        let x: Vec<Row> = (0..40).map(|i| vec![(0, (i as f64 * 0.7).sin()), (3, if i % 2 == 0 { 1.0 } else { -1.0 })]).collect();
        let y: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
        let m = fit(&x, &y, 4, 0.01);
        assert!(m.weights.iter().all(|w| w.is_finite()) && m.bias.is_finite());
        assert!(m.weights[3] > 1.0, "{m:?}");
        assert_eq!((m.weights[1], m.weights[2]), (0.0, 0.0));
        assert!(x.iter().zip(&y).all(|(xi, &yi)| (m.probability(xi) >= 0.5) == yi));
    }

    #[test]
    fn the_same_data_gives_identical_weights() {
        let x = rows(&(0..50).map(|i| vec![(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()]).collect::<Vec<_>>());
        let y: Vec<bool> = (0..50).map(|i| (i * 7) % 3 == 0).collect();
        assert_eq!(fit(&x, &y, 2, 1.0), fit(&x, &y, 2, 1.0));
    }
}
