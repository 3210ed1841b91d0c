//! cosine_similarity, cosine_distance and the avg_embedding aggregate: thin
//! wrappers over `retailml_embed`'s vector math.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::{self, ERRCODE_INVALID_PARAMETER_VALUE};
use retailml_embed::VectorError;

use crate::error::{raise, OrRaise, SqlError};

impl SqlError for VectorError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        ERRCODE_INVALID_PARAMETER_VALUE
    }
}

/// The values of an array argument; a NULL element has no place in a vector.
fn values(array: &[Option<f32>], what: &str) -> Vec<f32> {
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.unwrap_or_else(|| {
                raise(
                    ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("{what} has a NULL at position {}", i + 1),
                    None,
                )
            })
        })
        .collect()
}

/// The cosine of the angle between two embeddings, -1 to 1 (1: same
/// direction). Different lengths, empty or zero vectors, NULL, NaN and
/// Infinity elements are errors (22023).
#[pg_extern(immutable, strict, parallel_safe)]
fn cosine_similarity(a: Vec<Option<f32>>, b: Vec<Option<f32>>) -> f64 {
    retailml_embed::cosine_similarity(
        &values(&a, "the first vector"),
        &values(&b, "the second vector"),
    )
    .or_raise()
}

/// 1 - cosine_similarity(a, b): 0 for the same direction, 2 for opposite
/// ones, the order pgvector's `<=>` sorts by.
#[pg_extern(immutable, strict, parallel_safe)]
fn cosine_distance(a: Vec<Option<f32>>, b: Vec<Option<f32>>) -> f64 {
    1.0 - cosine_similarity(a, b)
}

#[pg_schema]
mod retailml {
    use pgrx::prelude::*;
    use retailml_embed::{mean_accumulate, mean_combine, mean_finish};

    use crate::error::OrRaise;

    /// avg_embedding's transition: adds one row to the state (see `mean_accumulate`).
    #[pg_extern(immutable, strict, parallel_safe)]
    fn avg_embedding_accum(state: Vec<f64>, embedding: Vec<Option<f32>>) -> Vec<f64> {
        let mut state = state;
        mean_accumulate(&mut state, &super::values(&embedding, "the embedding")).or_raise();
        state
    }

    /// avg_embedding's combine function: merges two workers' states.
    #[pg_extern(immutable, strict, parallel_safe)]
    fn avg_embedding_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
        let mut a = a;
        mean_combine(&mut a, &b).or_raise();
        a
    }

    /// avg_embedding's final function: the mean, or NULL when no row was seen.
    #[pg_extern(immutable, strict, parallel_safe)]
    fn avg_embedding_final(state: Vec<f64>) -> Option<Vec<f32>> {
        mean_finish(&state)
    }
}

// The state is a plain float8[] (row count, then sums), so parallel workers
// can hand it to the leader without serialisation functions. Strict
// transition: NULL rows are skipped; no rows leaves '{}' and gives NULL.
pgrx::extension_sql!(
    r#"
CREATE AGGREGATE avg_embedding(real[]) (
    SFUNC = retailml.avg_embedding_accum,
    STYPE = float8[],
    INITCOND = '{}',
    COMBINEFUNC = retailml.avg_embedding_combine,
    FINALFUNC = retailml.avg_embedding_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE avg_embedding(real[]) IS
  'element-wise mean of embeddings (not re-normalised); NULL rows skipped, NULL for no rows';
"#,
    name = "avg_embedding",
    requires = [
        retailml::avg_embedding_accum,
        retailml::avg_embedding_combine,
        retailml::avg_embedding_final
    ]
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn similarity_and_distance() {
        let row = Spi::get_two::<f64, f64>(
            "SELECT cosine_similarity('{1,0}'::real[], '{1,1}'::real[]), cosine_distance('{1,0}'::real[], '{-2,0}'::real[])",
        )
        .unwrap();
        assert!((row.0.unwrap() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(row.1, Some(2.0));
        assert_eq!(
            Spi::get_one::<bool>("SELECT cosine_similarity(NULL, '{1}') IS NULL"),
            Ok(Some(true))
        );
    }

    #[pg_test(error = "vectors have different lengths: 3 and 2")]
    fn length_mismatch_is_an_error() {
        Spi::run("SELECT cosine_similarity('{1,2,3}'::real[], '{1,2}'::real[])").unwrap();
    }

    #[pg_test(error = "the second vector has a NULL at position 2")]
    fn null_element_is_an_error() {
        Spi::run("SELECT cosine_distance('{1,2}'::real[], '{1,NULL}'::real[])").unwrap();
    }

    #[pg_test]
    fn average_skips_null_rows_and_is_null_without_rows() {
        let avg = Spi::get_one::<Vec<f32>>(
            "SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), (NULL), ('{3,6}')) v(e)",
        );
        assert_eq!(avg, Ok(Some(vec![2.0, 4.0])));
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT avg_embedding(e) IS NULL FROM (VALUES (NULL::real[])) v(e)"
            ),
            Ok(Some(true))
        );
    }

    #[pg_test(error = "embeddings have different lengths: 2 and 3")]
    fn average_of_mixed_lengths_is_an_error() {
        Spi::run("SELECT avg_embedding(e) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}')) v(e)")
            .unwrap();
    }
}
