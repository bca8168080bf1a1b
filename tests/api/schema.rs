//! `src/db/schema.rs` is written by hand for both backends; this proves each backend's
//! migrations create exactly the tables and columns it declares.

use std::collections::BTreeMap;

use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl as _};
use pulse::db::AnyConnection;

use crate::helpers::{Backend, TestContext};

/// (table, column) -> (diesel type without `Nullable`, nullable)
type Columns = BTreeMap<(String, String), (String, bool)>;

pub async fn schema_rs_matches_the_migrations(ctx: TestContext) {
    let app = ctx.spawn_app().await;
    let declared = declared_columns();

    let backend = ctx.backend;
    let created = app.db(move |conn| created_columns(conn, backend)).await;

    assert!(declared.len() >= 10, "schema.rs parsed to {declared:?}");
    assert_eq!(created, declared);
}

fn declared_columns() -> Columns {
    let source = include_str!("../../src/db/schema.rs");
    let mut columns = Columns::new();
    let mut table = None;
    for line in source.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{')) {
            table = Some(name.to_owned());
        } else if let Some((column, kind)) = line
            .split_once(" -> ")
            .filter(|_| !line.starts_with("diesel::"))
        {
            let kind = kind.trim_end_matches(',');
            let (kind, nullable) = match kind.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (kind, false),
            };
            let table = table.clone().expect("a column outside a table");
            columns.insert((table, column.to_owned()), (kind.to_owned(), nullable));
        } else if line == "}" {
            table = None;
        }
    }
    columns
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

fn created_columns(conn: &mut AnyConnection, backend: Backend) -> Columns {
    let query = match backend {
        Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                    data_type::text AS data_type, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%'"
        }
        Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                    (p.\"notnull\" = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\'"
        }
    };
    let rows: Vec<ColumnRow> = diesel::sql_query(query).load(conn).unwrap();
    rows.into_iter()
        .map(|row| {
            let kind = diesel_type(&row.data_type)
                .unwrap_or_else(|| panic!("unexpected column type {}", row.data_type));
            (
                (row.table_name, row.column_name),
                (kind.to_owned(), row.nullable),
            )
        })
        .collect()
}

/// The diesel type each backend's declared column type maps to.
fn diesel_type(sql_type: &str) -> Option<&'static str> {
    Some(match sql_type.to_ascii_lowercase().as_str() {
        "bigint" | "integer" => "BigInt",
        "text" => "Text",
        "boolean" => "Bool",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "date" => "Date",
        _ => return None,
    })
}

#[derive(QueryableByName)]
struct Pragmas {
    #[diesel(sql_type = Text)]
    journal_mode: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    busy_timeout: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    foreign_keys: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    synchronous: i64,
}

pub async fn sqlite_connections_get_their_pragmas(ctx: TestContext) {
    let app = ctx.spawn_app().await;

    let pragmas = app
        .db(|conn| {
            diesel::sql_query(
                "SELECT (SELECT journal_mode FROM pragma_journal_mode) AS journal_mode, \
                        (SELECT timeout FROM pragma_busy_timeout) AS busy_timeout, \
                        (SELECT foreign_keys FROM pragma_foreign_keys) AS foreign_keys, \
                        (SELECT synchronous FROM pragma_synchronous) AS synchronous",
            )
            .get_result::<Pragmas>(conn)
            .unwrap()
        })
        .await;

    assert_eq!(pragmas.journal_mode, "wal");
    assert_eq!(pragmas.busy_timeout, 5000);
    assert_eq!(pragmas.foreign_keys, 1);
    assert_eq!(pragmas.synchronous, 1, "NORMAL");
}
