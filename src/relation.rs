//! Reading the table a table function names: its columns and their kinds,
//! safe identifiers, and SPI failures, shared by segment_customers,
//! assign_segments, customer_rfm and forecast_sales over a table.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use PgSqlErrorCode::*;

use crate::error::raise;

/// A `regclass` argument as its bare OID. pgrx's `PgRelation` opens the
/// relation while unboxing the argument, so an OID that names nothing
/// (`0::regclass`, a dropped table's number) failed there with XX000 before
/// the function could say 42P01; [`table_columns`] checks it instead.
#[derive(Clone, Copy)]
pub(crate) struct Regclass(pub(crate) pg_sys::Oid);

unsafe impl<'fcx> ArgAbi<'fcx> for Regclass {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        Regclass(unsafe { pg_sys::Oid::unbox_arg_unchecked(arg) })
    }
}

pgrx::impl_sql_translatable!(Regclass, arg_only = "regclass");

pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) type_name: String,
    pub(crate) kind: Kind,
}

/// What a column's type is, domains followed down to their base type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Castable to float8: the integer, float and numeric types (not oid or
    /// money, which are in the same type category but do not cast).
    Numeric,
    /// date, timestamp or timestamptz.
    Temporal,
    Boolean,
    /// A string type or an enum.
    Text,
    /// An array of a numeric type.
    NumericArray,
    Other,
}

/// The columns of `relation`, which must exist (42P01) and be something
/// rows can be read from (42809 for an index, a sequence or a composite type).
pub(crate) fn table_columns(client: &SpiClient<'_>, relation: pg_sys::Oid) -> Vec<Column> {
    let kind = client
        .select(
            "SELECT coalesce((SELECT CASE WHEN relkind IN ('r', 'p', 'v', 'm', 'f') THEN 'readable'
                                          WHEN relkind IN ('i', 'I') THEN 'an index'
                                          WHEN relkind = 'S' THEN 'a sequence'
                                          WHEN relkind = 'c' THEN 'a composite type'
                                          ELSE 'another kind of relation' END
                                FROM pg_class WHERE oid = $1), 'missing')",
            Some(1),
            &[relation.into()],
        )
        .and_then(|t| t.first().get_one::<String>())
        .unwrap_or_else(|e| spi_failed(e))
        .unwrap_or_default();
    if kind == "missing" {
        raise(ERRCODE_UNDEFINED_TABLE, format!("relation with OID {} does not exist", relation.to_u32()), None);
    }
    if kind != "readable" {
        raise(
            ERRCODE_WRONG_OBJECT_TYPE,
            format!("{} is {kind}, not a table or view", relation_name(client, relation)),
            None,
        );
    }
    client
        .select(
            // A domain may be over another domain: follow the chain down.
            "WITH numeric(types) AS (SELECT '{int2,int4,int8,float4,float8,numeric}'::regtype[])
             SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
                    CASE WHEN b.base = ANY (n.types) THEN 'numeric'
                         WHEN b.base = ANY ('{date,timestamp,timestamptz}'::regtype[]) THEN 'temporal'
                         WHEN b.base = 'bool'::regtype THEN 'boolean'
                         WHEN t.typcategory = 'S' OR t.typtype = 'e' THEN 'text'
                         WHEN t.typcategory = 'A' AND t.typelem = ANY (n.types) THEN 'numeric_array'
                         ELSE 'other' END
               FROM numeric n, pg_attribute a,
                    LATERAL (WITH RECURSIVE chain(typ) AS (
                               SELECT a.atttypid
                               UNION ALL
                               SELECT t.typbasetype FROM chain JOIN pg_type t ON t.oid = chain.typ WHERE t.typtype = 'd')
                             SELECT typ AS base FROM chain JOIN pg_type t ON t.oid = chain.typ
                              WHERE t.typtype <> 'd') b
               JOIN pg_type t ON t.oid = b.base
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            None,
            &[relation.into()],
        )
        .unwrap_or_else(|e| spi_failed(e))
        .map(|row| Column {
            name: row.get::<String>(1).ok().flatten().unwrap_or_default(),
            type_name: row.get::<String>(2).ok().flatten().unwrap_or_default(),
            kind: match row.get::<String>(3).ok().flatten().as_deref() {
                Some("numeric") => Kind::Numeric,
                Some("temporal") => Kind::Temporal,
                Some("boolean") => Kind::Boolean,
                Some("text") => Kind::Text,
                Some("numeric_array") => Kind::NumericArray,
                _ => Kind::Other,
            },
        })
        .collect()
}

pub(crate) fn find_column<'a>(columns: &'a [Column], name: &str, relation: pg_sys::Oid) -> &'a Column {
    columns.iter().find(|c| c.name == name).unwrap_or_else(|| {
        let table = Spi::get_one_with_args::<String>("SELECT $1::regclass::text", &[relation.into()])
            .ok()
            .flatten()
            .unwrap_or_default();
        raise(ERRCODE_UNDEFINED_COLUMN, format!("column \"{name}\" of {table} does not exist"), None)
    })
}

/// Column `name`, which must exist (42703) and be of `kind`
/// (42804, "is not {what}").
pub(crate) fn typed_column<'a>(
    columns: &'a [Column],
    name: &str,
    relation: pg_sys::Oid,
    kind: Kind,
    what: &str,
) -> &'a Column {
    let column = find_column(columns, name, relation);
    if column.kind != kind {
        let message = format!("column \"{name}\" is not {what} (it is {})", column.type_name);
        raise(ERRCODE_DATATYPE_MISMATCH, message, None);
    }
    column
}

pub(crate) fn relation_name(client: &SpiClient<'_>, relation: pg_sys::Oid) -> String {
    client
        .select("SELECT $1::regclass::text", Some(1), &[relation.into()])
        .and_then(|t| t.first().get_one::<String>())
        .unwrap_or_else(|e| spi_failed(e))
        .unwrap_or_default()
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn spi_failed(err: pgrx::spi::SpiError) -> ! {
    raise(ERRCODE_INTERNAL_ERROR, format!("reading the table failed: {err}"), Some("this is a bug in retailml, please report it"))
}

/// Runs `query` through a cursor, `batch` rows per SPI session, handing each
/// row to `each`: a session's tuples are freed when it ends, so the read holds
/// one batch of them at a time, and an interrupt is checked between batches.
pub(crate) fn for_each_row(query: &str, batch: i64, mut each: impl FnMut(pgrx::spi::SpiHeapTupleData<'_>)) {
    let cursor = Spi::connect(|client| client.open_cursor(query, &[]).detach_into_name());
    loop {
        let fetched = Spi::connect(|client| {
            let mut cursor = client.find_cursor(&cursor).unwrap_or_else(|e| spi_failed(e));
            let table = cursor.fetch(batch).unwrap_or_else(|e| spi_failed(e));
            let fetched = table.len();
            table.for_each(&mut each);
            if fetched > 0 {
                // Keep the cursor open for the next session; dropping it closes it.
                cursor.detach_into_name();
            }
            fetched
        });
        pgrx::check_for_interrupts!();
        if fetched == 0 {
            break;
        }
    }
}
