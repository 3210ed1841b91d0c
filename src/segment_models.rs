//! Saved segment models: the table retailml.segment_models (one row per
//! model, row-level security by owner), saving from segment_customers,
//! assign_segments (scoring new customers with the saved transforms) and
//! segment_profiles. The math is in `retailml_segment::{choose_k, model,
//! profile}`; this file only moves values in and out of Postgres.

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use retailml_report::SegmentProfile;
use retailml_segment::choose_k::{metrics, KChoice};
use retailml_segment::features::{Encoded, Encoder, Transform};
use retailml_segment::model::assign;
use retailml_segment::{profile, Segmentation};
use PgSqlErrorCode::*;

use crate::error::{raise, OrRaise};
use crate::relation::{find_column, spi_failed, table_columns, Kind, Regclass};
use crate::segment::{announce_skipped, check, feature_column, primary_key, read_table};

// Extension-owned, so DROP EXTENSION drops the models; pg_extension_config_dump
// makes pg_dump keep the rows. Every role may use the table, and the policy
// shows each role only the models of roles it is a member of (its own
// included), so it can neither read nor replace another's. The same policy
// guards retailml.job_runs (jobs.rs).
pgrx::extension_sql!(
    r#"
CREATE SCHEMA IF NOT EXISTS retailml;
GRANT USAGE ON SCHEMA retailml TO PUBLIC;
-- Whether the current role is `owner` or a member of it. The EXISTS guards
-- pg_has_role against owners that have since been dropped.
CREATE FUNCTION retailml.owner_visible(owner name) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT owner = current_user
        OR EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname = owner AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
$$;
COMMENT ON FUNCTION retailml.owner_visible IS 'row-level security of retailml.segment_models and retailml.job_runs';
CREATE TABLE retailml.segment_models (
    name            text PRIMARY KEY,
    owner           name NOT NULL DEFAULT current_user,
    created_at      timestamptz NOT NULL DEFAULT now(),
    source          text NOT NULL,
    id_column       text NOT NULL,
    features        text[] NOT NULL,
    nulls           text NOT NULL,
    transforms      jsonb NOT NULL,
    encoded_features text[] NOT NULL,
    dropped         text[] NOT NULL,
    k               int NOT NULL,
    seed            bigint NOT NULL,
    row_count       bigint NOT NULL,
    centroids       float8[] NOT NULL,
    sizes           bigint[] NOT NULL,
    segment_means   float8[] NOT NULL,
    segment_medians float8[] NOT NULL,
    segment_z       float8[] NOT NULL,
    overall_means   float8[] NOT NULL,
    metrics         jsonb NOT NULL
);
COMMENT ON TABLE retailml.segment_models IS 'segment models saved by segment_customers(..., model_name => ...)';
COMMENT ON COLUMN retailml.segment_models.source IS 'the table or view the model was fitted on';
COMMENT ON COLUMN retailml.segment_models.id_column IS 'the customer key column of source';
COMMENT ON COLUMN retailml.segment_models.features IS 'the input columns, in the order of transforms';
COMMENT ON COLUMN retailml.segment_models.nulls IS 'impute (a NULL takes the column mean) or skip (the customer is left out)';
COMMENT ON COLUMN retailml.segment_models.transforms IS 'per input column how it maps into the space k-means saw: numeric (log1p, mean, scale), boolean, one_hot (categories, shares, scale), pca (mean, components, variances, explained, scale), constant (dropped)';
COMMENT ON COLUMN retailml.segment_models.encoded_features IS 'the features k-means saw, in the order of every per-feature array: numeric and boolean columns, column=value per text value, column_pcN per principal component';
COMMENT ON COLUMN retailml.segment_models.dropped IS 'input columns with a single value, which do not count';
COMMENT ON COLUMN retailml.segment_models.centroids IS 'k x encoded_features: segment centroids in the model space, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.sizes IS 'customers per segment, segment 1 first';
COMMENT ON COLUMN retailml.segment_models.segment_means IS 'k x encoded_features: segment means in original units (shares for indicators, scores for components)';
COMMENT ON COLUMN retailml.segment_models.segment_medians IS 'k x encoded_features: segment medians in the same units';
COMMENT ON COLUMN retailml.segment_models.segment_z IS 'k x encoded_features: (segment mean - overall mean) / overall standard deviation in the model space';
COMMENT ON COLUMN retailml.segment_models.overall_means IS 'per encoded feature: the mean over every customer, in original units';
COMMENT ON COLUMN retailml.segment_models.metrics IS 'inertia, silhouette (on silhouette_rows rows), davies_bouldin, k_chosen_by, k_scores';
ALTER TABLE retailml.segment_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_models_by_owner ON retailml.segment_models
    USING (retailml.owner_visible(owner)) WITH CHECK (owner = current_user);
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
    pub(crate) encoder: &'a Encoder,
    pub(crate) encoded: &'a Encoded,
    pub(crate) segmentation: &'a Segmentation,
    pub(crate) choice: Option<&'a KChoice>,
    pub(crate) seed: u64,
}

/// A k × d matrix as a 2-D float8[] from flat parameter `$p` (row-major),
/// d the number of encoded features (`$6`) and k `$8`.
fn matrix(p: usize) -> String {
    format!(
        "(SELECT array_agg(${p}[(r - 1) * cardinality($6) + 1 : r * cardinality($6)] ORDER BY r)
            FROM generate_series(1, $8) r)"
    )
}

/// Saves (or replaces) the model. The caller's own DELETE and INSERT, so the
/// row-level security policy decides: another role's model of the same name
/// stays, and that is an error rather than a silent second model.
pub(crate) fn save(fit: &Fit<'_>) {
    let seg = fit.segmentation;
    let (x, d) = (&fit.encoded.x, fit.encoded.cols);
    let m = metrics(x, d, seg, fit.seed, &check);
    let display = fit.encoder.display();
    let profile = profile::profile(x, d, seg, &display, &check);
    let flat = |m: &[Vec<f64>]| m.concat();
    let (k_ks, k_scores): (Vec<i32>, Vec<f64>) =
        fit.choice.map_or((vec![], vec![]), |c| c.scores.iter().map(|&(k, s)| (k as i32, s)).unzip());
    let transforms = serde_json::to_value(fit.encoder).unwrap_or_else(|e| {
        raise(ERRCODE_INTERNAL_ERROR, format!("could not record the transforms: {e}"), None)
    });
    let encoded_features: Vec<String> = fit.encoder.features().into_iter().map(|(name, _)| name).collect();
    let query = format!(
        "INSERT INTO retailml.segment_models
            (name, source, id_column, features, nulls, transforms, encoded_features, dropped, k, seed, row_count,
             centroids, sizes, segment_means, segment_medians, segment_z, overall_means, metrics)
         VALUES ($1, $2::regclass::text, $3, $4, $5, $7, $6, $9, $8, $10, $11, {}, $13, {}, {}, {}, $17,
                 jsonb_build_object('inertia', $18::float8, 'silhouette', $19::float8,
                                    'silhouette_rows', $20::bigint, 'davies_bouldin', $21::float8,
                                    'k_chosen_by', $22::text,
                                    'k_scores', (SELECT jsonb_object_agg(k, s) FROM unnest($23::int[], $24::float8[]) u(k, s))))
         ON CONFLICT (name) DO NOTHING
         RETURNING name",
        matrix(12),
        matrix(14),
        matrix(15),
        matrix(16)
    );
    let input_columns: Vec<String> = fit.encoder.transforms.iter().map(|t| t.column().to_string()).collect();
    let nulls = match fit.encoder.nulls {
        retailml_segment::features::Nulls::Impute => "impute",
        retailml_segment::features::Nulls::Skip => "skip",
    };
    let saved = Spi::connect_mut(|client| {
        // Two saves of one name take turns: the second then replaces the
        // first's model instead of finding its row in the way.
        client
            .update(
                "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('retailml.segment_models'), pg_catalog.hashtext($1))",
                None,
                &[fit.name.into()],
            )
            .unwrap_or_else(|e| spi_failed(e));
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
                    input_columns.into(),
                    nulls.into(),
                    encoded_features.into(),
                    pgrx::JsonB(transforms).into(),
                    (seg.sizes.len() as i32).into(),
                    fit.encoder.dropped().into(),
                    (fit.seed as i64).into(),
                    (fit.encoded.rows() as i64).into(),
                    flat(&seg.centroids).into(),
                    seg.sizes.iter().map(|&n| n as i64).collect::<Vec<_>>().into(),
                    flat(&profile.means).into(),
                    flat(&profile.medians).into(),
                    flat(&profile.z).into(),
                    profile.overall_means.into(),
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
    encoder: Encoder,
    id_column: String,
    row_count: i64,
    centroids: Vec<Vec<f64>>,
    sizes: Vec<i64>,
    segment_means: Vec<Vec<f64>>,
    segment_medians: Vec<Vec<f64>>,
    segment_z: Vec<Vec<f64>>,
    overall_means: Vec<f64>,
}

fn load(client: &SpiClient<'_>, name: &str) -> Saved {
    let table = client
        .select(
            "SELECT transforms, id_column, row_count, ARRAY(SELECT unnest(centroids)), sizes,
                    ARRAY(SELECT unnest(segment_means)), ARRAY(SELECT unnest(segment_medians)),
                    ARRAY(SELECT unnest(segment_z)), overall_means
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
    let transforms: pgrx::JsonB = row.get(1).unwrap_or_else(|e| spi_failed(e)).unwrap_or(pgrx::JsonB(serde_json::Value::Null));
    let encoder: Encoder = serde_json::from_value(transforms.0).unwrap_or_else(|e| {
        raise(
            ERRCODE_DATA_CORRUPTED,
            format!("segment model \"{name}\" has transforms this version cannot read: {e}"),
            None,
        )
    });
    let d = encoder.features().len().max(1);
    let rows = |flat: Vec<f64>| flat.chunks(d).map(<[f64]>::to_vec).collect::<Vec<_>>();
    Saved {
        id_column: row.get(2).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        row_count: row.get(3).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        centroids: rows(get(4)),
        sizes: row.get(5).unwrap_or_else(|e| spi_failed(e)).unwrap_or_default(),
        segment_means: rows(get(6)),
        segment_medians: rows(get(7)),
        segment_z: rows(get(8)),
        overall_means: get(9),
        encoder,
    }
}

/// The segment of each row of `customers` under a saved model: the model's
/// own encoding (imputation, log1p, standardisation, categories, principal
/// components; not the new table's), then the nearest centroid. `distance`
/// is to it, in the model space. NULL arguments give no rows.
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
    let (model, key, features) = Spi::connect(|client| {
        let model = load(client, &model_name);
        let columns = table_columns(client, relation);
        let key = match id_column {
            Some(name) => crate::relation::find_column(&columns, &name, relation).name.clone(),
            // The fit's key column when the table has one of that name:
            // tables made with CREATE TABLE AS have no primary key.
            None if columns.iter().any(|c| c.name == model.id_column) => model.id_column.clone(),
            None => primary_key(client, relation, &columns),
        };
        let features: Vec<(String, Kind)> = model
            .encoder
            .transforms
            .iter()
            .map(|t| {
                let column = feature_column(&columns, t.column(), relation);
                let fitted = match t {
                    Transform::Numeric { .. } => Some(Kind::Numeric),
                    Transform::Boolean { .. } => Some(Kind::Boolean),
                    Transform::OneHot { .. } => Some(Kind::Text),
                    Transform::Pca { .. } => Some(Kind::NumericArray),
                    Transform::Constant { .. } => None,
                };
                if fitted.is_some_and(|kind| kind != column.1) {
                    let found = &find_column(&columns, t.column(), relation).type_name;
                    raise(
                        ERRCODE_DATATYPE_MISMATCH,
                        format!("column \"{}\" is {found}, of another kind than when model \"{model_name}\" was fitted", column.0),
                        None,
                    );
                }
                column
            })
            .collect();
        (model, key, features)
    });
    let table = read_table(relation, &key, &features);
    let encoded = model.encoder.encode(&table, &check).or_raise();
    announce_skipped(table.ids.len() - encoded.rows());
    let assigned = assign(&encoded.x, encoded.cols, &model.centroids, &check).unwrap_or_else(|e| {
        let feature = model.encoder.features().swap_remove(e.feature).0;
        let message = format!(
            "customer \"{}\" has a \"{feature}\" that is too large for the model's scale",
            table.ids[encoded.kept[e.row]]
        );
        raise(ERRCODE_DATA_EXCEPTION, message, None)
    });
    let mut ids = table.ids;
    let out: Vec<(String, i32, f64)> = encoded
        .kept
        .iter()
        .zip(assigned)
        .map(|(&i, (segment, distance))| (std::mem::take(&mut ids[i]), segment as i32, distance))
        .collect();
    TableIterator::new(out)
}

/// Each segment of a saved model: its size, share of the fitted rows, the
/// z-scores of its means (as saved at the fit) and its label.
fn profiles(model: &Saved) -> Vec<SegmentProfile> {
    let features = model.encoder.features();
    model
        .segment_z
        .iter()
        .enumerate()
        .map(|(c, z)| {
            let customers = model.sizes.get(c).copied().unwrap_or(0);
            SegmentProfile {
                segment: c as i32 + 1,
                customers,
                share: customers as f64 / model.row_count.max(1) as f64,
                label: profile::label(&features, z),
                z: z.clone(),
            }
        })
        .collect()
}

/// A saved model's encoded features, fitted row count and segment
/// profiles, as segment_profiles reports them, for segment_chart.
pub(crate) fn profiled_model(model_name: &str) -> (Vec<String>, i64, Vec<SegmentProfile>) {
    let model = Spi::connect(|client| load(client, model_name));
    let segments = profiles(&model);
    let features = model.encoder.features().into_iter().map(|(name, _)| name).collect();
    (features, model.row_count, segments)
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
    let features = model.encoder.features();
    let mut out = Vec::new();
    let in_units = model.segment_means.iter().zip(&model.segment_medians);
    for (segment, (means, medians)) in profiles(&model).into_iter().zip(in_units) {
        for (j, (feature, _)) in features.iter().enumerate() {
            out.push((
                segment.segment,
                segment.customers,
                segment.share,
                feature.clone(),
                means[j],
                medians[j],
                model.overall_means[j],
                segment.z[j],
                segment.label.clone(),
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
