//! From the columns of a customer table to the matrix k-means clusters (the
//! model space), and back to units an analyst reads.
//!
//! Every input column weighs the same, one unit of variance, whatever its
//! type:
//! - a numeric or boolean column is standardised to mean 0 and variance 1
//!   (after `log1p` when asked, and after NULLs take the column mean);
//! - a text column becomes one indicator per distinct value, and a numeric
//!   array column (an embedding) its first few principal components; the
//!   block is centred and divided by one common factor so that its total
//!   variance is 1. Within the block the parts keep their proportions: a
//!   frequent value or a leading component weighs more than a rare or a
//!   trailing one.
//!
//! So 384 embedding dimensions count as much as one RFM column, and a text
//! column with two values as much as a boolean one. A column with a single
//! value carries no information and is dropped.
//!
//! The fitted [`Transform`]s are serialisable, so a saved model re-applies
//! exactly the same encoding to new customers.

use std::collections::{BTreeMap, HashSet};

use nalgebra::{DMatrix, SymmetricEigen};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::choose_k::sample_indices;
use crate::SegmentError;

/// Distinct values a text column may have to be one-hot encoded.
pub const MAX_CATEGORIES: usize = 20;
/// Principal components kept per array column by default.
pub const DEFAULT_COMPONENTS: usize = 3;
/// The most principal components per array column.
pub const MAX_COMPONENTS: usize = 50;
/// Principal components are learnt on a seeded sample of at most this many
/// rows: the covariance is O(rows · dims²), 50,000 × 384² is a few seconds.
pub const PCA_SAMPLE_ROWS: usize = 50_000;
/// The longest array a column may hold.
pub const MAX_DIMS: usize = 4096;
/// Rows per parallel task when encoding, and tasks between two interrupt
/// checks (each group is well under a second even with array columns).
const ENCODE_BLOCK: usize = 4096;
const BLOCKS_PER_CHECK: usize = 16;
/// Rows per parallel task of the covariance, 1.2 MB of partial sums each at
/// 384 dimensions; [`BLOCKS_PER_CHECK`] of them between interrupt checks.
const COVARIANCE_BLOCK: usize = 512;

/// One input column's values, one per customer.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Number(Vec<Option<f64>>),
    Boolean(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
    /// Numeric arrays, in single precision (4 bytes an element: a million
    /// 384-dimension embeddings are 1.5 GB). A NULL element is read as NaN,
    /// and either is an error.
    Array(Vec<Option<Vec<f32>>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Number(v) => v.len(),
            Values::Boolean(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Array(v) => v.len(),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Values::Number(v) => v[i].is_none(),
            Values::Boolean(v) => v[i].is_none(),
            Values::Text(v) => v[i].is_none(),
            Values::Array(v) => v[i].is_none(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// The customers and their feature columns, as read from the table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub ids: Vec<String>,
    pub columns: Vec<Column>,
}

impl Table {
    /// Numeric columns `f1`, `f2`, … of `rows` (each row one customer, ids
    /// 1, 2, …): for callers that hold a plain matrix.
    pub fn numeric(rows: &[Vec<Option<f64>>]) -> Table {
        let d = rows.first().map_or(0, Vec::len);
        Table {
            ids: (1..=rows.len()).map(|i| i.to_string()).collect(),
            columns: (0..d)
                .map(|j| Column {
                    name: format!("f{}", j + 1),
                    values: Values::Number(rows.iter().map(|r| r.get(j).copied().flatten()).collect()),
                })
                .collect(),
        }
    }
}

/// What a customer with a NULL feature gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nulls {
    /// The column mean (for text, the value shares; for arrays, the mean
    /// array), so the customer sits at the centre of that column.
    Impute,
    /// The customer is left out.
    Skip,
}

impl Nulls {
    pub fn parse(s: &str) -> Result<Self, SegmentError> {
        match s {
            "impute" => Ok(Nulls::Impute),
            "skip" => Ok(Nulls::Skip),
            _ => Err(SegmentError::InvalidParameter(format!(
                "nulls must be 'impute' or 'skip', got '{s}'"
            ))),
        }
    }
}

/// How to encode a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Numeric columns to take `ln(1 + x)` of before standardising (skewed
    /// money columns).
    pub log1p: Vec<String>,
    pub nulls: Nulls,
    /// Principal components per array column.
    pub components: usize,
    /// Seeds the principal components' sample.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            log1p: Vec::new(),
            nulls: Nulls::Impute,
            components: DEFAULT_COMPONENTS,
            seed: crate::DEFAULT_SEED,
        }
    }
}

/// How one input column maps into the model space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// z = (v - mean) / scale with v = x, or ln(1 + x) with `log1p`; a NULL
    /// takes v = mean.
    Numeric {
        column: String,
        log1p: bool,
        mean: f64,
        scale: f64,
    },
    /// As numeric with true = 1, false = 0; `mean` is the share of true.
    Boolean { column: String, mean: f64, scale: f64 },
    /// Per category c, z = ([x = c] - share) / scale. A NULL takes the
    /// shares (z = 0); a value not seen in the fit is in no category.
    OneHot {
        column: String,
        categories: Vec<String>,
        shares: Vec<f64>,
        scale: f64,
    },
    /// Per component, z = component · (x - mean) / scale. A NULL takes the
    /// mean array (z = 0). `variances` are the components' variances on the
    /// sample, `explained` their share of the column's total variance.
    Pca {
        column: String,
        mean: Vec<f64>,
        components: Vec<Vec<f64>>,
        variances: Vec<f64>,
        explained: f64,
        scale: f64,
    },
    /// A column with a single value (or a single array): no information.
    Constant { column: String },
}

/// What a model-space feature means to an analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// A numeric column, in its own units.
    Measure,
    /// A share of customers: a boolean column.
    Indicator,
    /// A share of customers: one value of a text column.
    Category,
    /// A principal component's score.
    Component,
}

/// The encoding of every input column of a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    pub nulls: Nulls,
    pub transforms: Vec<Transform>,
}

/// A table in the model space: `rows` of `cols` values, row-major, for the
/// customers at `kept` (all, unless NULLs are skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub x: Vec<f64>,
    pub cols: usize,
    pub kept: Vec<usize>,
}

impl Encoded {
    pub fn rows(&self) -> usize {
        self.kept.len()
    }
}

impl Transform {
    pub fn column(&self) -> &str {
        match self {
            Transform::Numeric { column, .. }
            | Transform::Boolean { column, .. }
            | Transform::OneHot { column, .. }
            | Transform::Pca { column, .. }
            | Transform::Constant { column } => column,
        }
    }

    /// The names and kinds of the model-space features this column makes.
    fn features(&self) -> Vec<(String, FeatureKind)> {
        match self {
            Transform::Numeric { column, .. } => vec![(column.clone(), FeatureKind::Measure)],
            Transform::Boolean { column, .. } => vec![(column.clone(), FeatureKind::Indicator)],
            Transform::OneHot {
                column, categories, ..
            } => categories
                .iter()
                .map(|c| (format!("{column}={c}"), FeatureKind::Category))
                .collect(),
            Transform::Pca {
                column, components, ..
            } => (1..=components.len())
                .map(|j| (format!("{column}_pc{j}"), FeatureKind::Component))
                .collect(),
            Transform::Constant { .. } => Vec::new(),
        }
    }

    /// Model-space value `z` of this column's feature `j` in the units an
    /// analyst reads: the column's own units for numeric, a 0/1 share for
    /// an indicator, the score for a component. Increasing in `z`, so the
    /// median maps to the median.
    fn display(&self, j: usize, z: f64) -> f64 {
        match self {
            Transform::Numeric {
                log1p, mean, scale, ..
            } => {
                let v = z * scale + mean;
                if *log1p {
                    v.exp_m1()
                } else {
                    v
                }
            }
            Transform::Boolean { mean, scale, .. } => z * scale + mean,
            Transform::OneHot { shares, scale, .. } => z * scale + shares[j],
            Transform::Pca { scale, .. } => z * scale,
            Transform::Constant { .. } => z,
        }
    }

    /// Appends customer `i`'s model-space values to `out`.
    fn encode(&self, values: &Values, i: usize, id: &str, out: &mut Vec<f64>) -> Result<(), SegmentError> {
        match (self, values) {
            (Transform::Numeric { column, log1p, mean, scale }, Values::Number(v)) => {
                let value = match v[i] {
                    Some(x) => numeric_value(x, *log1p, column, id)?,
                    None => *mean,
                };
                out.push(standardised(value, *mean, *scale, column, id)?);
            }
            (Transform::Boolean { column, mean, scale }, Values::Boolean(v)) => {
                let value = v[i].map_or(*mean, |b| f64::from(u8::from(b)));
                out.push(standardised(value, *mean, *scale, column, id)?);
            }
            (
                Transform::OneHot {
                    categories,
                    shares,
                    scale,
                    ..
                },
                Values::Text(v),
            ) => match &v[i] {
                Some(x) => out.extend(
                    categories
                        .iter()
                        .zip(shares)
                        .map(|(c, s)| (f64::from(u8::from(c == x)) - s) / scale),
                ),
                None => out.extend(std::iter::repeat_n(0.0, categories.len())),
            },
            (
                Transform::Pca {
                    column,
                    mean,
                    components,
                    scale,
                    ..
                },
                Values::Array(v),
            ) => match &v[i] {
                Some(a) => {
                    check_array(a, mean.len(), column, id)?;
                    for component in components {
                        let score: f64 = component
                            .iter()
                            .zip(a.iter().zip(mean))
                            .map(|(c, (&x, m))| c * (f64::from(x) - m))
                            .sum();
                        out.push(score / scale);
                    }
                }
                None => out.extend(std::iter::repeat_n(0.0, components.len())),
            },
            (Transform::Constant { .. }, _) => {}
            (t, _) => {
                return Err(SegmentError::InvalidParameter(format!(
                    "column \"{}\" has another type than when the model was fitted",
                    t.column()
                )))
            }
        }
        Ok(())
    }
}

/// `x`, or ln(1 + x), checked finite.
fn numeric_value(x: f64, log1p: bool, column: &str, id: &str) -> Result<f64, SegmentError> {
    if !x.is_finite() {
        let what = if x.is_nan() { "NaN" } else { "infinite" };
        return Err(SegmentError::UnusableData(format!(
            "customer \"{id}\" has a \"{column}\" that is {what}"
        )));
    }
    if !log1p {
        return Ok(x);
    }
    if x <= -1.0 {
        return Err(SegmentError::UnusableData(format!(
            "customer \"{id}\" has a \"{column}\" of {x}, and log1p needs values above -1"
        )));
    }
    Ok(x.ln_1p())
}

fn standardised(value: f64, mean: f64, scale: f64, column: &str, id: &str) -> Result<f64, SegmentError> {
    let z = (value - mean) / scale;
    if z.is_finite() {
        Ok(z)
    } else {
        Err(SegmentError::UnusableData(format!(
            "customer \"{id}\" has a \"{column}\" too large to standardise"
        )))
    }
}

/// `a` has `dims` values, all finite.
fn check_array(a: &[f32], dims: usize, column: &str, id: &str) -> Result<(), SegmentError> {
    if a.len() != dims {
        return Err(SegmentError::UnusableData(format!(
            "customer \"{id}\" has a \"{column}\" of {} values, the others have {dims}",
            a.len()
        )));
    }
    if a.iter().any(|x| !x.is_finite()) {
        return Err(SegmentError::UnusableData(format!(
            "customer \"{id}\" has a \"{column}\" with a NULL, NaN or infinite element"
        )));
    }
    Ok(())
}

impl Encoder {
    /// Learns the encoding of `table` and encodes it. `check` is called on
    /// the calling thread every few hundred milliseconds of work at most.
    pub fn fit(table: &Table, options: &Options, check: &dyn Fn()) -> Result<(Encoder, Encoded), SegmentError> {
        check_shape(table)?;
        for name in &options.log1p {
            let numeric = table
                .columns
                .iter()
                .any(|c| &c.name == name && matches!(c.values, Values::Number(_)));
            if !numeric {
                return Err(SegmentError::InvalidParameter(format!(
                    "log_features names \"{name}\", which is not a numeric feature"
                )));
            }
        }
        if options.components == 0 || options.components > MAX_COMPONENTS {
            return Err(SegmentError::InvalidParameter(format!(
                "components must be between 1 and {MAX_COMPONENTS}, got {}",
                options.components
            )));
        }
        let kept = kept_rows(table, options.nulls);
        if kept.is_empty() {
            return Err(SegmentError::UnusableData(if table.ids.is_empty() {
                "there are no rows to segment".to_string()
            } else {
                "every row has a NULL feature, so none is left to segment".to_string()
            }));
        }
        // Columns side by side; an array column's components alone, since
        // they take long enough to need interrupt checks.
        let (arrays, others): (Vec<usize>, Vec<usize>) =
            (0..table.columns.len()).partition(|&j| matches!(table.columns[j].values, Values::Array(_)));
        let mut transforms: Vec<Option<Transform>> = vec![None; table.columns.len()];
        let fitted: Vec<Result<Transform, SegmentError>> = others
            .par_iter()
            .map(|&j| {
                let column = &table.columns[j];
                fit_column(column, &table.ids, &kept, options.log1p.contains(&column.name))
            })
            .collect();
        for (&j, t) in others.iter().zip(fitted) {
            transforms[j] = Some(t?);
        }
        for &j in &arrays {
            check();
            if let Values::Array(v) = &table.columns[j].values {
                transforms[j] = Some(fit_pca(&table.columns[j].name, v, &table.ids, &kept, options, check)?);
            }
        }
        let transforms: Vec<Transform> = transforms.into_iter().flatten().collect();
        let encoder = Encoder {
            nulls: options.nulls,
            transforms,
        };
        if encoder.features().is_empty() {
            return Err(SegmentError::UnusableData(format!(
                "every feature has a single value ({}), so there is nothing to segment on",
                encoder.dropped().join(", ")
            )));
        }
        let encoded = encoder.encode_rows(table, kept, check)?;
        Ok((encoder, encoded))
    }

    /// Encodes `table` (new customers) exactly as the fit encoded its own.
    pub fn encode(&self, table: &Table, check: &dyn Fn()) -> Result<Encoded, SegmentError> {
        check_shape(table)?;
        if table.columns.len() != self.transforms.len()
            || table.columns.iter().zip(&self.transforms).any(|(c, t)| c.name != t.column())
        {
            return Err(SegmentError::InvalidParameter(
                "the columns do not match the model's features".to_string(),
            ));
        }
        self.encode_rows(table, kept_rows(table, self.nulls), check)
    }

    fn encode_rows(&self, table: &Table, kept: Vec<usize>, check: &dyn Fn()) -> Result<Encoded, SegmentError> {
        let cols = self.features().len();
        let mut x = Vec::with_capacity(kept.len() * cols);
        for group in kept.chunks(ENCODE_BLOCK * BLOCKS_PER_CHECK) {
            check();
            let blocks: Vec<Result<Vec<f64>, SegmentError>> = group
                .par_chunks(ENCODE_BLOCK)
                .map(|block| {
                    let mut x = Vec::with_capacity(block.len() * cols);
                    for &i in block {
                        for (t, c) in self.transforms.iter().zip(&table.columns) {
                            t.encode(&c.values, i, &table.ids[i], &mut x)?;
                        }
                    }
                    Ok(x)
                })
                .collect();
            for block in blocks {
                x.extend(block?);
            }
        }
        Ok(Encoded { x, cols, kept })
    }

    /// The model-space features in matrix column order.
    pub fn features(&self) -> Vec<(String, FeatureKind)> {
        self.transforms.iter().flat_map(Transform::features).collect()
    }

    /// The columns dropped for having a single value.
    pub fn dropped(&self) -> Vec<String> {
        self.transforms
            .iter()
            .filter(|t| matches!(t, Transform::Constant { .. }))
            .map(|t| t.column().to_string())
            .collect()
    }

    /// Per model-space feature, the map from a model-space value to the
    /// units an analyst reads (see [`Transform::display`]).
    pub fn display(&self) -> Vec<Box<dyn Fn(f64) -> f64 + Send + Sync + '_>> {
        self.transforms
            .iter()
            .flat_map(|t| (0..t.features().len()).map(move |j| Box::new(move |z| t.display(j, z)) as Box<_>))
            .collect()
    }
}

/// Every column has one value per id.
fn check_shape(table: &Table) -> Result<(), SegmentError> {
    if table.columns.is_empty() {
        return Err(SegmentError::UnusableData("rows have no features".to_string()));
    }
    if let Some(c) = table.columns.iter().find(|c| c.values.len() != table.ids.len()) {
        return Err(SegmentError::InvalidParameter(format!(
            "column \"{}\" has {} values for {} customers",
            c.name,
            c.values.len(),
            table.ids.len()
        )));
    }
    Ok(())
}

fn kept_rows(table: &Table, nulls: Nulls) -> Vec<usize> {
    (0..table.ids.len())
        .filter(|&i| nulls == Nulls::Impute || table.columns.iter().all(|c| !c.values.is_null(i)))
        .collect()
}

/// The transform of one column, learnt on rows `kept`.
fn fit_column(column: &Column, ids: &[String], kept: &[usize], log1p: bool) -> Result<Transform, SegmentError> {
    let name = &column.name;
    let all_null = || SegmentError::UnusableData(format!("column \"{name}\" has only null values"));
    let constant = || Transform::Constant { column: name.clone() };
    match &column.values {
        Values::Number(v) => {
            let mut values = Vec::with_capacity(kept.len());
            for &i in kept {
                if let Some(x) = v[i] {
                    values.push(numeric_value(x, log1p, name, &ids[i])?);
                }
            }
            if values.is_empty() {
                return Err(all_null());
            }
            Ok(match mean_and_scale(&values, kept.len(), name)? {
                Some((mean, scale)) => Transform::Numeric {
                    column: name.clone(),
                    log1p,
                    mean,
                    scale,
                },
                None => constant(),
            })
        }
        Values::Boolean(v) => {
            let values: Vec<f64> = kept.iter().filter_map(|&i| v[i]).map(|b| f64::from(u8::from(b))).collect();
            if values.is_empty() {
                return Err(all_null());
            }
            Ok(match mean_and_scale(&values, kept.len(), name)? {
                Some((mean, scale)) => Transform::Boolean {
                    column: name.clone(),
                    mean,
                    scale,
                },
                None => constant(),
            })
        }
        Values::Text(v) => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            let mut present = 0usize;
            for x in kept.iter().filter_map(|&i| v[i].as_deref()) {
                present += 1;
                *counts.entry(x).or_default() += 1;
                if counts.len() > MAX_CATEGORIES {
                    let distinct = kept
                        .iter()
                        .filter_map(|&i| v[i].as_deref())
                        .collect::<HashSet<_>>()
                        .len();
                    return Err(SegmentError::InvalidParameter(format!(
                        "column \"{name}\" has {distinct} distinct values; at most {MAX_CATEGORIES} can be one-hot encoded"
                    )));
                }
            }
            if present == 0 {
                return Err(all_null());
            }
            if counts.len() == 1 {
                return Ok(constant());
            }
            let shares: Vec<f64> = counts.values().map(|&c| c as f64 / present as f64).collect();
            // Variance of the indicators after NULLs take the shares.
            let filled = present as f64 / kept.len() as f64;
            let variance: f64 = shares.iter().map(|s| s * (1.0 - s)).sum::<f64>() * filled;
            Ok(Transform::OneHot {
                column: name.clone(),
                categories: counts.keys().map(|c| c.to_string()).collect(),
                shares,
                scale: variance.sqrt(),
            })
        }
        Values::Array(_) => unreachable!("array columns are fitted by fit_pca"),
    }
}

/// Mean and population standard deviation of `values` padded to `rows`
/// with the mean (the imputed NULLs); `None` for a constant column.
/// Computed so that values near f64::MAX cannot overflow: running means,
/// and deviations scaled by the largest before squaring.
fn mean_and_scale(values: &[f64], rows: usize, name: &str) -> Result<Option<(f64, f64)>, SegmentError> {
    let mut mean = 0.0_f64;
    for (c, &x) in values.iter().enumerate() {
        let c = (c + 1) as f64;
        // x/c - m/c rather than (x - m)/c: the difference of two values
        // near f64::MAX would overflow.
        mean += x / c - mean / c;
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    if lo == hi {
        return Ok(None);
    }
    let spread = values.iter().fold(0.0_f64, |s, &x| s.max((x - mean).abs()));
    let sum: f64 = values.iter().map(|&x| ((x - mean) / spread).powi(2)).sum();
    let scale = spread * (sum / rows as f64).sqrt();
    let fits = |x: f64| ((x - mean) / scale).is_finite();
    if !(scale.is_finite() && scale > 0.0 && fits(hi) && fits(lo)) {
        return Err(SegmentError::UnusableData(format!(
            "column \"{name}\" has values too large to standardise"
        )));
    }
    Ok(Some((mean, scale)))
}

/// Principal components of an array column on a seeded sample of its
/// non-NULL rows, scaled so that the kept components' total variance is 1.
fn fit_pca(
    name: &str,
    v: &[Option<Vec<f32>>],
    ids: &[String],
    kept: &[usize],
    options: &Options,
    check: &dyn Fn(),
) -> Result<Transform, SegmentError> {
    let present: Vec<usize> = kept.iter().copied().filter(|&i| v[i].is_some()).collect();
    let Some(&first) = present.first() else {
        return Err(SegmentError::UnusableData(format!("column \"{name}\" has only null values")));
    };
    let dims = v[first].as_ref().map_or(0, Vec::len);
    if dims == 0 || dims > MAX_DIMS {
        return Err(SegmentError::UnusableData(format!(
            "customer \"{}\" has a \"{name}\" of {dims} values; arrays need 1 to {MAX_DIMS}",
            ids[first]
        )));
    }
    // Every row is checked, not only the sample, so a bad array is an
    // error at fit time rather than when the model scores it.
    for &i in &present {
        check_array(v[i].as_deref().unwrap_or_default(), dims, name, &ids[i])?;
    }
    let sample: Vec<&[f32]> = sample_indices(present.len(), PCA_SAMPLE_ROWS, options.seed)
        .into_iter()
        .map(|s| v[present[s]].as_deref().unwrap_or_default())
        .collect();
    let n = sample.len() as f64;
    let mut mean = vec![0.0_f64; dims];
    for a in &sample {
        mean.iter_mut().zip(a.iter()).for_each(|(m, &x)| *m += f64::from(x) / n);
    }
    // The upper triangle of the covariance, summed per block of rows and
    // then in block order, so that the result does not depend on threads.
    let mut covariance = vec![0.0_f64; dims * dims];
    for group in sample.chunks(COVARIANCE_BLOCK * BLOCKS_PER_CHECK) {
        check();
        let parts: Vec<Vec<f64>> = group
            .par_chunks(COVARIANCE_BLOCK)
            .map(|block| {
                let mut c = vec![0.0_f64; dims * dims];
                let mut centred = vec![0.0_f64; dims];
                for a in block {
                    centred.iter_mut().zip(a.iter().zip(&mean)).for_each(|(c, (&x, m))| *c = f64::from(x) - m);
                    for (r, &xr) in centred.iter().enumerate() {
                        for (cell, &xc) in c[r * dims + r..(r + 1) * dims].iter_mut().zip(&centred[r..]) {
                            *cell += xr * xc;
                        }
                    }
                }
                c
            })
            .collect();
        for part in parts {
            covariance.iter_mut().zip(part).for_each(|(x, y)| *x += y);
        }
    }
    let covariance = DMatrix::from_fn(dims, dims, |r, c| {
        let (r, c) = (r.min(c), r.max(c));
        covariance[r * dims + c] / n
    });
    let total: f64 = covariance.diagonal().sum();
    if total == 0.0 {
        return Ok(Transform::Constant { column: name.to_string() });
    }
    if !total.is_finite() {
        return Err(SegmentError::UnusableData(format!("column \"{name}\" has values too large to standardise")));
    }
    let eigen = SymmetricEigen::new(covariance);
    let mut order: Vec<usize> = (0..dims).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]).then(a.cmp(&b)));
    // Components beyond the rank carry rounding noise only.
    let keep: Vec<usize> = order
        .into_iter()
        .take(options.components)
        .filter(|&j| eigen.eigenvalues[j] > total * 1e-12)
        .collect();
    let components: Vec<Vec<f64>> = keep
        .iter()
        .map(|&j| {
            let mut c: Vec<f64> = eigen.eigenvectors.column(j).iter().copied().collect();
            // A component's sign is arbitrary: make its largest entry
            // positive so that the same data always gives the same model.
            let largest = c.iter().copied().fold(0.0_f64, |a, x| if x.abs() > a.abs() { x } else { a });
            if largest < 0.0 {
                c.iter_mut().for_each(|x| *x = -*x);
            }
            c
        })
        .collect();
    let variances: Vec<f64> = keep.iter().map(|&j| eigen.eigenvalues[j]).collect();
    let filled = present.len() as f64 / kept.len() as f64;
    let kept_variance: f64 = variances.iter().sum();
    Ok(Transform::Pca {
        column: name.to_string(),
        explained: kept_variance / total,
        scale: (kept_variance * filled).sqrt(),
        mean,
        components,
        variances,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| i.to_string()).collect()
    }

    fn table(columns: Vec<(&str, Values)>) -> Table {
        let n = columns[0].1.len();
        Table {
            ids: ids(n),
            columns: columns
                .into_iter()
                .map(|(name, values)| Column {
                    name: name.to_string(),
                    values,
                })
                .collect(),
        }
    }

    /// Per column of `e`, (mean, population variance).
    fn moments(e: &Encoded) -> Vec<(f64, f64)> {
        (0..e.cols)
            .map(|j| {
                let col: Vec<f64> = e.x.iter().skip(j).step_by(e.cols).copied().collect();
                let n = col.len() as f64;
                let m = col.iter().sum::<f64>() / n;
                (m, col.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n)
            })
            .collect()
    }

    #[test]
    fn every_column_weighs_one_unit_of_variance() {
        let n = 600;
        let mut rng = 7_u64;
        let mut next = move || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        let spend: Vec<Option<f64>> = (0..n).map(|i| if i % 10 == 0 { None } else { Some(100.0 * next()) }).collect();
        let member: Vec<Option<bool>> = (0..n).map(|i| Some(i % 3 == 0)).collect();
        let channel: Vec<Option<String>> =
            (0..n).map(|i| ["web", "store", "phone"].get(i % 4).map(|s| s.to_string())).collect();
        let embedding: Vec<Option<Vec<f32>>> = (0..n)
            .map(|_| Some((0..16).map(|d| (next() * (d + 1) as f64) as f32).collect()))
            .collect();
        let t = table(vec![
            ("spend", Values::Number(spend)),
            ("member", Values::Boolean(member)),
            ("channel", Values::Text(channel)),
            ("review", Values::Array(embedding)),
        ]);
        let (encoder, e) = Encoder::fit(&t, &Options::default(), &|| {}).unwrap();
        let names: Vec<String> = encoder.features().into_iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            [
                "spend",
                "member",
                "channel=phone",
                "channel=store",
                "channel=web",
                "review_pc1",
                "review_pc2",
                "review_pc3"
            ]
        );
        let m = moments(&e);
        let block = |r: std::ops::Range<usize>| r.map(|j| m[j].1).sum::<f64>();
        for (j, (mean, _)) in m.iter().enumerate() {
            assert!(mean.abs() < 1e-9, "feature {j} mean {mean}");
        }
        assert!((block(0..1) - 1.0).abs() < 1e-9);
        assert!((block(1..2) - 1.0).abs() < 1e-9);
        assert!((block(2..5) - 1.0).abs() < 1e-9, "{}", block(2..5));
        // The components are learnt on every row here (fewer than the sample).
        assert!((block(5..8) - 1.0).abs() < 1e-9, "{}", block(5..8));
        // The leading component weighs most.
        assert!(m[5].1 > m[6].1 && m[6].1 > m[7].1);
        // The same encoder encodes the same table to the same bits.
        assert_eq!(encoder.encode(&t, &|| {}).unwrap(), e);
    }

    #[test]
    fn pca_finds_the_direction_of_largest_variance() {
        // Points along (1, 1, 0) with small noise on the third axis.
        let rows: Vec<Option<Vec<f32>>> = (0..200)
            .map(|i| {
                let t = i as f32 / 10.0;
                Some(vec![t, t, ((i % 7) as f32 - 3.0) * 0.01])
            })
            .collect();
        let t = table(vec![("e", Values::Array(rows))]);
        let options = Options {
            components: 1,
            ..Options::default()
        };
        let (encoder, _) = Encoder::fit(&t, &options, &|| {}).unwrap();
        let Transform::Pca {
            components, explained, ..
        } = &encoder.transforms[0]
        else {
            panic!("{encoder:?}")
        };
        let c = &components[0];
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((c[0] - h).abs() < 1e-6 && (c[1] - h).abs() < 1e-6 && c[2].abs() < 1e-3, "{c:?}");
        assert!(*explained > 0.9999, "{explained}");
    }

    #[test]
    fn log1p_and_display_give_original_units_back() {
        let spend: Vec<Option<f64>> = [0.0, 9.0, 99.0, 999.0].iter().map(|&x| Some(x)).collect();
        let t = table(vec![("spend", Values::Number(spend))]);
        let options = Options {
            log1p: vec!["spend".into()],
            ..Options::default()
        };
        let (encoder, e) = Encoder::fit(&t, &options, &|| {}).unwrap();
        let display = encoder.display();
        let back: Vec<f64> = e.x.iter().map(|&z| display[0](z)).collect();
        for (b, want) in back.iter().zip([0.0, 9.0, 99.0, 999.0]) {
            assert!((b - want).abs() < 1e-9 * want.max(1.0), "{back:?}");
        }
        // 1, 10, 100, 1000 are equal steps in log space.
        let step = e.x[1] - e.x[0];
        assert!((e.x[2] - e.x[1] - step).abs() < 1e-9 && (e.x[3] - e.x[2] - step).abs() < 1e-9);
        let bad = table(vec![("spend", Values::Number(vec![Some(1.0), Some(-1.0)]))]);
        assert_eq!(
            Encoder::fit(&bad, &options, &|| {}).unwrap_err(),
            SegmentError::UnusableData("customer \"2\" has a \"spend\" of -1, and log1p needs values above -1".into())
        );
        let text = table(vec![("spend", Values::Text(vec![Some("a".into())]))]);
        assert!(matches!(Encoder::fit(&text, &options, &|| {}), Err(SegmentError::InvalidParameter(_))));
    }

    #[test]
    fn constant_columns_are_dropped_and_named() {
        let t = table(vec![
            ("a", Values::Number(vec![Some(1.0), Some(2.0), Some(3.0)])),
            ("b", Values::Number(vec![Some(5.0), None, Some(5.0)])),
            ("c", Values::Text(vec![Some("x".into()); 3])),
            ("d", Values::Array(vec![Some(vec![1.0, 2.0]); 3])),
        ]);
        let (encoder, e) = Encoder::fit(&t, &Options::default(), &|| {}).unwrap();
        assert_eq!(encoder.dropped(), ["b", "c", "d"]);
        assert_eq!(e.cols, 1);
    }

    #[test]
    fn skipping_nulls_leaves_the_rows_out() {
        let t = table(vec![
            ("a", Values::Number(vec![Some(1.0), None, Some(3.0), Some(4.0)])),
            ("b", Values::Text(vec![Some("x".into()), Some("y".into()), None, Some("y".into())])),
        ]);
        let options = Options {
            nulls: Nulls::Skip,
            ..Options::default()
        };
        let (encoder, e) = Encoder::fit(&t, &options, &|| {}).unwrap();
        assert_eq!(e.kept, [0, 3]);
        assert_eq!(encoder.encode(&t, &|| {}).unwrap().kept, [0, 3]);
        let (_, all) = Encoder::fit(&t, &Options::default(), &|| {}).unwrap();
        assert_eq!(all.kept, [0, 1, 2, 3]);
        // The NULL text takes the shares: z = 0 on both indicators.
        assert_eq!(&all.x[2 * 3 + 1..3 * 3], [0.0, 0.0]);
    }

    #[test]
    fn bad_values_name_the_customer_and_column() {
        let fit = |values| Encoder::fit(&table(vec![("spend", values)]), &Options::default(), &|| {}).unwrap_err();
        assert_eq!(
            fit(Values::Number(vec![Some(1.0), Some(f64::NAN)])),
            SegmentError::UnusableData("customer \"2\" has a \"spend\" that is NaN".into())
        );
        assert_eq!(
            fit(Values::Number(vec![None, None])),
            SegmentError::UnusableData("column \"spend\" has only null values".into())
        );
        assert_eq!(
            fit(Values::Array(vec![Some(vec![1.0]), Some(vec![1.0, 2.0])])),
            SegmentError::UnusableData("customer \"2\" has a \"spend\" of 2 values, the others have 1".into())
        );
        assert_eq!(
            fit(Values::Array(vec![Some(vec![1.0]), Some(vec![f32::NAN])])),
            SegmentError::UnusableData("customer \"2\" has a \"spend\" with a NULL, NaN or infinite element".into())
        );
        let many: Vec<Option<String>> = (0..30).map(|i| Some(format!("v{i}"))).collect();
        assert_eq!(
            fit(Values::Text(many)),
            SegmentError::InvalidParameter(
                "column \"spend\" has 30 distinct values; at most 20 can be one-hot encoded".into()
            )
        );
        // The extremes of f64 still standardise.
        let huge = Values::Number(vec![Some(-f64::MAX), Some(f64::MAX)]);
        let (_, e) = Encoder::fit(&table(vec![("spend", huge)]), &Options::default(), &|| {}).unwrap();
        assert_eq!(e.x, [-1.0, 1.0]);
    }

    #[test]
    fn the_check_runs_between_parts_of_long_work() {
        let rows: Vec<Option<Vec<f32>>> = (0..20_000).map(|i| Some((0..64).map(|d| ((i * d) % 17) as f32).collect())).collect();
        let t = table(vec![("e", Values::Array(rows))]);
        let calls = std::cell::Cell::new(0);
        Encoder::fit(&t, &Options::default(), &|| calls.set(calls.get() + 1)).unwrap();
        // Covariance: 20,000 rows in groups of 8,192; encoding: groups of 65,536.
        assert!(calls.get() >= 4, "{} calls", calls.get());
    }

    #[test]
    fn new_customers_get_the_fit_s_encoding() {
        let fit_table = table(vec![("c", Values::Text(vec![Some("a".into()), Some("b".into())]))]);
        let (encoder, _) = Encoder::fit(&fit_table, &Options::default(), &|| {}).unwrap();
        let new = table(vec![("c", Values::Text(vec![Some("a".into()), Some("zzz".into())]))]);
        let e = encoder.encode(&new, &|| {}).unwrap();
        // Shares 0.5 each, scale sqrt(0.5): "a" is (0.5, -0.5)/scale, an
        // unseen value is in no category, (-0.5, -0.5)/scale.
        let s = 0.5_f64.sqrt();
        assert_eq!(e.x, [0.5 / s, -0.5 / s, -0.5 / s, -0.5 / s]);
        let json = serde_json::to_string(&encoder).unwrap();
        assert_eq!(serde_json::from_str::<Encoder>(&json).unwrap(), encoder);
    }
}
