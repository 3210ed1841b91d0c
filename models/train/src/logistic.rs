//! L2-regularised logistic regression fitted by Newton's method, in one
//! thread with a fixed order of operations, so the same data always gives
//! bit-identical weights.

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

impl Logistic {
    pub fn probability(&self, x: &[f64]) -> f64 {
        sigmoid(self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>())
    }
}

/// Minimises sum_i log-loss(y_i, w·x_i + b) + (lambda / 2)·|w|² (the
/// intercept is not penalised), from zero, until the Newton step's largest
/// component is below 1e-10 or after 100 steps.
pub fn fit(x: &[Vec<f64>], y: &[bool], lambda: f64) -> Logistic {
    assert_eq!(x.len(), y.len());
    let d = x.first().map_or(0, Vec::len);
    let p = d + 1; // the intercept is parameter d
    let mut theta = vec![0.0; p];
    for _ in 0..100 {
        let mut gradient = vec![0.0; p];
        let mut hessian = vec![0.0; p * p];
        for (xi, &yi) in x.iter().zip(y) {
            let z = theta[d] + theta[..d].iter().zip(xi).map(|(w, v)| w * v).sum::<f64>();
            let mu = sigmoid(z);
            let residual = mu - if yi { 1.0 } else { 0.0 };
            let weight = mu * (1.0 - mu);
            let row = |j: usize| if j < d { xi[j] } else { 1.0 };
            for j in 0..p {
                gradient[j] += residual * row(j);
                let wj = weight * row(j);
                for k in 0..=j {
                    hessian[j * p + k] += wj * row(k);
                }
            }
        }
        for j in 0..d {
            gradient[j] += lambda * theta[j];
            hessian[j * p + j] += lambda;
        }
        // A tiny ridge on the intercept keeps the system positive definite
        // when one class is absent.
        hessian[d * p + d] += 1e-9;
        let step = solve_cholesky(&mut hessian, &gradient, p);
        let largest = step.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
        theta.iter_mut().zip(&step).for_each(|(t, s)| *t -= s);
        if largest < 1e-10 {
            break;
        }
    }
    Logistic { bias: theta[d], weights: theta[..d].to_vec() }
}

/// Solves A·s = g for symmetric positive definite A, given by its lower
/// triangle in row-major `a` (overwritten by the Cholesky factor).
fn solve_cholesky(a: &mut [f64], g: &[f64], n: usize) -> Vec<f64> {
    for j in 0..n {
        let mut diagonal = a[j * n + j];
        for k in 0..j {
            diagonal -= a[j * n + k] * a[j * n + k];
        }
        let diagonal = diagonal.max(1e-300).sqrt();
        a[j * n + j] = diagonal;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / diagonal;
        }
    }
    // L·u = g, then Lᵀ·s = u
    let mut u = g.to_vec();
    for i in 0..n {
        for k in 0..i {
            u[i] -= a[i * n + k] * u[k];
        }
        u[i] /= a[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            u[i] -= a[k * n + i] * u[k];
        }
        u[i] /= a[i * n + i];
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        // [[4, 2], [2, 3]] s = [2, 1] -> s = [0.5, 0]
        let mut a = vec![4.0, 0.0, 2.0, 3.0];
        let s = solve_cholesky(&mut a, &[2.0, 1.0], 2);
        assert!((s[0] - 0.5).abs() < 1e-12 && s[1].abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn balanced_symmetric_data_gives_zero_intercept() {
        // Mirror-image points: the optimum has b = 0 and w > 0.
        let x = vec![vec![-2.0], vec![-1.0], vec![1.0], vec![2.0], vec![-0.5], vec![0.5]];
        let y = vec![false, false, true, true, true, false];
        let m = fit(&x, &y, 0.1);
        assert!(m.bias.abs() < 1e-9, "{m:?}");
        assert!(m.weights[0] > 0.0);
        // At the optimum the gradient vanishes: sum (mu - y) x + lambda w = 0.
        let g: f64 = x.iter().zip(&y).map(|(xi, &yi)| (m.probability(xi) - yi as u8 as f64) * xi[0]).sum();
        assert!((g + 0.1 * m.weights[0]).abs() < 1e-9);
    }

    #[test]
    fn the_same_data_gives_identical_weights() {
        let x: Vec<Vec<f64>> = (0..50).map(|i| vec![(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()]).collect();
        let y: Vec<bool> = (0..50).map(|i| (i * 7) % 3 == 0).collect();
        assert_eq!(fit(&x, &y, 1.0), fit(&x, &y, 1.0));
    }
}
