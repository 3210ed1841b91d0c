//! Saved segment models: the table retailml.segment_models (one row per
//! model, row-level security by owner), saving from segment_customers,
//! assign_segments (scoring new customers with the saved transforms) and
//! segment_profiles. The math is in `retailml_segment::{choose_k, model,
//! profile}`; this file only moves values in and out of Postgres.

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use retailml_segment::choose_k::{metrics, KChoice};
use retailml_segment::model::{assign, Transform};
use retailml_segment::{profile, Segmentation};
use PgSqlErrorCode::*;

use crate::error::{raise, OrRaise};
use crate::relation::{spi_failed, table_columns, Regclass};
use crate::segment::{check, numeric_column, primary_key, read_rows};

// Extension-owned, so DROP EXTENSION drops the models; pg_extension_config_dump
// makes pg_dump keep the rows. Every role may use the table, and the policy
// shows each role only the models of roles it is a member of (its own
// included), so it can neither read nor replace another's. The EXISTS
// guards pg_has_role against owners that have since been dropped.
pgrx::extension_sql!(
    r#"
CREATE SCHEMA IF NOT EXISTS retailml;
GRANT USAGE ON SCHEMA retailml TO PUBLIC;
CREATE TABLE retailml.segment_models (
    name            text PRIMARY KEY,
    owner           name NOT NULL DEFAULT current_user,
    created_at      timestamptz NOT NULL DEFAULT now(),
    source          text NOT NULL,
    id_column       text NOT NULL,
    features        text[] NOT NULL,
    k               int NOT NULL,
    seed            bigint NOT NULL,
    row_count       bigint NOT NULL,
    means           float8[] NOT NULL,
    scales          float8[] NOT NULL,
    dropped         text[] NOT NULL,
    centroids       float8[] NOT NULL,
    sizes           bigint[] NOT NULL,
    segment_means   float8[] NOT NULL,
    segment_medians float8[] NOT NULL,
    metrics         jsonb NOT NULL
);
COMMENT ON TABLE retailml.segment_models IS 'segment models saved by segment_customers(..., model_name => ...)';
COMMENT ON COLUMN retailml.segment_models.source IS 'the table or view the model was fitted on';
COMMENT ON COLUMN retailml.segment_models.id_column IS 'the customer key column of source';
COMMENT ON COLUMN retailml.segment_models.features IS 'feature columns, in the order of every per-feature array';
COMMENT ON COLUMN retailml.segment_models.means IS 'per feature: the column mean, which a NULL takes and standardisation subtracts';
COMMENT ON COLUMN retailml.segment_models.scales IS 'per feature: the population standard deviation standardisation divides by (0: a constant column, always z = 0)';
COMMENT ON COLUMN retailml.segment_models.dropped IS 'constant features, which do not count';
COMMENT ON COLUMN retailml.segment_models.centroids IS 'k x features: segment centroids in standardised space, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.sizes IS 'customers per segment, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.segment_means IS 'k x features: segment means in original units';
COMMENT ON COLUMN retailml.segment_models.segment_medians IS 'k x features: segment medians in original units';
COMMENT ON COLUMN retailml.segment_models.metrics IS 'inertia, silhouette (on silhouette_rows rows), davies_bouldin, k_chosen_by, k_scores';
ALTER TABLE retailml.segment_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_models_by_owner ON retailml.segment_models
    USING (owner = current_user
           OR EXISTS (SELECT FROM pg_catalog.pg_roles r
                       WHERE r.rolname = owner AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')))
    WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON retailml.segment_models TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('retailml.segment_models', '');
"#,
    name = "segment_models_table"
);

/// What segment_customers fitted, to be saved under `name`.
pub(crate) struct Fit<'a> {
    pub(crate) name: &'a str,
    pub(crate) relation: pg_sys::Oid,
    pub(crate) key: &'a str,
    pub(crate) features: &'a [String],
    pub(crate) rows: &'a [Vec<Option<f64>>],
    pub(crate) segmentation: &'a Segmentation,
    pub(crate) choice: Option<&'a KChoice>,
    pub(crate) seed: u64,
}

/// A k × d matrix as a 2-D float8[] from flat parameter `$p` (row-major),
/// d the number of features (`$4`) and k `$5`.
fn matrix(p: usize) -> String {
    format!(
        "(SELECT array_agg(${p}[(r - 1) * cardinality($4) + 1 : r * cardinality($4)] ORDER BY r)
            FROM generate_series(1, $5) r)"
    )
}

/// Saves (or replaces) the model. The caller's own DELETE and INSERT, so the
/// row-level security policy decides: another role's model of the same name
/// stays, and that is an error rather than a silent second model.
pub(crate) fn save(fit: &Fit<'_>) {
    let seg = fit.segmentation;
    let m = metrics(fit.rows, seg, fit.seed, &check);
    let medians = profile::medians(fit.rows, seg, &check);
    let dropped: Vec<String> = fit
        .features
        .iter()
        .zip(&seg.scales)
        .filter(|(_, &s)| s == 0.0)
        .map(|(f, _)| f.clone())
        .collect();
    let flat = |m: &[Vec<f64>]| m.concat();
    let (k_ks, k_scores): (Vec<i32>, Vec<f64>) =
        fit.choice.map_or((vec![], vec![]), |c| c.scores.iter().map(|&(k, s)| (k as i32, s)).unzip());
    let query = format!(
        "INSERT INTO retailml.segment_models
            (name, source, id_column, features, k, seed, row_count, means, scales, dropped,
             centroids, sizes, segment_means, segment_medians, metrics)
         VALUES ($1, $2::regclass::text, $3, $4, $5, $6, $7, $8, $9, $10, {}, $12, {}, {},
                 jsonb_build_object('inertia', $15::float8, 'silhouette', $16::float8,
                                    'silhouette_rows', $17::bigint, 'davies_bouldin', $18::float8,
                                    'k_chosen_by', $19::text,
                                    'k_scores', (SELECT jsonb_object_agg(k, s) FROM unnest($20::int[], $21::float8[]) u(k, s))))
         ON CONFLICT (name) DO NOTHING
         RETURNING name",
        matrix(11),
        matrix(13),
        matrix(14)
    );
    let saved = Spi::connect_mut(|client| {
        client
            .update("DELETE FROM retailml.segment_models WHERE name = $1", None, &[fit.name.into()])
            .unwrap_or_else(|e| spi_failed(e));
        client
            .update(
                query.as_str(),
                None,
                &[
                    fit.name.into(),
                    fit.relation.into(),
                    fit.key.into(),
                    fit.features.to_vec().into(),
                    (seg.sizes.len() as i32).into(),
                    (fit.seed as i64).into(),
                    (fit.rows.len() as i64).into(),
                    seg.means.clone().into(),
                    seg.scales.clone().into(),
                    dropped.into(),
                    flat(&seg.centroids).into(),
                    seg.sizes.iter().map(|&n| n as i64).collect::<Vec<_>>().into(),
                    flat(&seg.feature_means).into(),
                    flat(&medians).into(),
                    m.inertia.into(),
                    m.silhouette.into(),
                    (m.silhouette_rows as i64).into(),
                    m.davies_bouldin.into(),
                    if fit.choice.is_some() { "silhouette" } else { "given" }.into(),
                    k_ks.into(),
                    k_scores.into(),
                ],
            )
            .unwrap_or_else(|e| spi_failed(e))
            .len()
    });
    if saved == 0 {
        raise(
            ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("segment model \"{}\" belongs to another role", fit.name),
            Some("choose another model_name, or ask its owner to drop it or grant you their role"),
        );
    }
}

/// A saved model as read back.
struct Saved {
    features: Vec<String>,
    id_column: String,
    row_count: i64,
    transform: Transform,
    centroids: Vec<Vec<f64>>,
    sizes: Vec<i64>,
    segment_means: Vec<Vec<f64>>,
    segment_medians: Vec<Vec<f64>>,
}

fn load(client: &SpiClient<'_>, name: &str) -> Saved {
    let table = client
        .select(
            "SELECT features, id_column, row_count, means, scales, ARRAY(SELECT unnest(centroids)),
                    sizes, ARRAY(SELECT unnest(segment_means)), ARRAY(SELECT unnest(segment_medians))
               FROM retailml.segment_models WHERE name = $1",
            Some(1),
            &[name.into()],
        )
        .unwrap_or_else(|e| spi_failed(e));
    if table.is_empty() {
        raise(
            ERRCODE_UNDEFINED_OBJECT,
            format!("segment model \"{name}\" does not exist"),
            Some("segment_customers(..., model_name => ...) saves one; retailml.segment_models lists those you can see"),
        );
    }
    let row = table.first();
    let get = |i: usize| -> Vec<f64> {
        row.get::<Vec<f64>>(i).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default()
    };
    let features: Vec<String> = row.get(1).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default();
    let d = features.len().max(1);
    let rows = |flat: Vec<f64>| flat.chunks(d).map(<[f64]>::to_vec).collect::<Vec<_>>();
    Saved {
        id_column: row.get(2).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        row_count: row.get(3).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        transform: Transform {
            means: get(4),
            scales: get(5),
        },
        centroids: rows(get(6)),
        sizes: row.get(7).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        segment_means: rows(get(8)),
        segment_medians: rows(get(9)),
        features,
    }
}

/// The segment of each row of `customers` under a saved model: the model's
/// own imputation and standardisation (not the new table's), then the
/// nearest centroid. `distance` is to it, in standardised space. NULL
/// arguments give no rows.
#[pg_extern(stable, cost = 10000)]
fn assign_segments(
    model_name: Option<String>,
    customers: Option<Regclass>,
    id_column: default!(Option<String>, "NULL"),
) -> TableIterator<'static, (name!(customer_id, String), name!(segment, i32), name!(distance, f64))> {
    let (Some(model_name), Some(customers)) = (model_name, customers) else {
        return TableIterator::empty();
    };
    let relation = customers.0;
    let (model, key) = Spi::connect(|client| {
        let model = load(client, &model_name);
        let columns = table_columns(client, relation);
        let key = match id_column {
            Some(name) => crate::relation::find_column(&columns, &name, relation).name.clone(),
            // The fit's key column when the table has one of that name:
            // tables made with CREATE TABLE AS have no primary key.
            None if columns.iter().any(|c| c.name == model.id_column) => model.id_column.clone(),
            None => primary_key(client, relation, &columns),
        };
        for feature in &model.features {
            numeric_column(&columns, feature, relation);
        }
        (model, key)
    });
    let (ids, rows) = read_rows(relation, &key, &model.features);
    let assigned = assign(&rows, &ids, &model.features, &model.transform, &model.centroids, &check).or_raise();
    let out: Vec<(String, i32, f64)> =
        ids.into_iter().zip(assigned).map(|(id, (segment, distance))| (id, segment as i32, distance)).collect();
    TableIterator::new(out)
}

/// One row per segment and feature of a saved model: its size and share,
/// the segment's mean and median in original units, the overall mean, the
/// z-score of the segment mean, and a label for the segment (the same on
/// each of its rows). A NULL name gives no rows.
#[pg_extern(stable)]
#[allow(clippy::type_complexity)]
fn segment_profiles(
    model_name: Option<String>,
) -> TableIterator<
    'static,
    (
        name!(segment, i32),
        name!(customers, i64),
        name!(share, f64),
        name!(feature, String),
        name!(mean, f64),
        name!(median, f64),
        name!(overall_mean, f64),
        name!(z, f64),
        name!(label, String),
    ),
> {
    let Some(model_name) = model_name else {
        return TableIterator::empty();
    };
    let model = Spi::connect(|client| load(client, &model_name));
    let mut out = Vec::new();
    for (c, (means, medians)) in model.segment_means.iter().zip(&model.segment_medians).enumerate() {
        let z = profile::z_scores(means, &model.transform.means, &model.transform.scales);
        let label = profile::label(&model.features, &z);
        let customers = model.sizes.get(c).copied().unwrap_or(0);
        for (j, feature) in model.features.iter().enumerate() {
            out.push((
                c as i32 + 1,
                customers,
                customers as f64 / model.row_count.max(1) as f64,
                feature.clone(),
                means[j],
                medians[j],
                model.transform.means[j],
                z[j],
                label.clone(),
            ));
        }
    }
    TableIterator::new(out)
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn fit(name: &str) {
        Spi::run(&format!(
            "CREATE TABLE IF NOT EXISTS buyers AS
               SELECT i AS id, CASE WHEN i % 2 = 0 THEN 1000 + i ELSE 10 + i END::float8 AS spend
                 FROM generate_series(1, 40) i;
             SELECT count(*) FROM segment_customers('buyers'::regclass, 2, id_column => 'id', model_name => '{name}')"
        ))
        .unwrap();
    }

    #[pg_test]
    fn saved_model_scores_its_own_rows_alike() {
        fit("m");
        let differing = Spi::get_one::<i64>(
            "SELECT count(*) FROM assign_segments('m', 'buyers'::regclass) a
               JOIN segment_customers('buyers'::regclass, 2, id_column => 'id') s USING (customer_id)
              WHERE a.segment <> s.segment",
        );
        assert_eq!(differing, Ok(Some(0)));
        let rows = Spi::get_one::<i64>("SELECT count(*) FROM segment_profiles('m')");
        assert_eq!(rows, Ok(Some(2)));
    }

    #[pg_test(error = "segment model \"nope\" does not exist")]
    fn unknown_model_is_an_error() {
        Spi::run("SELECT * FROM segment_profiles('nope')").unwrap();
    }

    #[pg_test]
    fn null_arguments_give_no_rows() {
        fit("m");
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM assign_segments(NULL, 'buyers'::regclass)"), Ok(Some(0)));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM assign_segments('m', NULL)"), Ok(Some(0)));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM segment_profiles(NULL)"), Ok(Some(0)));
    }
}
