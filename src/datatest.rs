//! Data tests: the `[[models.tests]]` a model declares (not_null, unique, range, …),
//! checked against schemas at compile time and run as DataFusion plans on the built table.
//!
//! Every test is a DataFrame built with the Expr API: user values become literals,
//! never SQL text. An `expression` test is parsed by DataFusion's SQL expression
//! parser against the table's schema.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use deltalake::arrow::array::{Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use deltalake::datafusion::common::tree_node::TreeNode;
use deltalake::datafusion::common::{Column, DFSchema, JoinType, ScalarValue, SchemaError, TableReference};
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::datasource::empty::EmptyTable;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::functions_aggregate::expr_fn::{count, sum};
use deltalake::datafusion::logical_expr::{Expr, ExprSchemable, SortExpr, ident, in_list, lit};
use deltalake::datafusion::prelude::SessionContext;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::compile::suggest;
use crate::engine;
use crate::error::{Error, df_message};

/// Failing rows shown per test.
const SAMPLE_ROWS: usize = 5;
/// Columns shown per sample row: the tested ones first, then the rest of the table.
const SAMPLE_COLUMNS: usize = 8;
/// Characters shown per sample value.
const SAMPLE_VALUE_CHARS: usize = 40;

/// How much a failing test matters.
#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The model counts as failed; models downstream of it are skipped.
    #[default]
    Error,
    /// Reported, but the run carries on.
    Warn,
}

/// One data test of a model, a `[[models.tests]]` entry.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(from = "RawSpec")]
pub struct DataTestSpec {
    /// The name given in the file; [`DataTestSpec::name`] falls back to a generated one.
    pub name: Option<String>,
    pub severity: Severity,
    pub kind: TestKind,
}

/// What a data test checks.
#[derive(Debug, Clone, PartialEq)]
pub enum TestKind {
    /// None of the columns holds a NULL.
    NotNull { columns: Vec<String> },
    /// No two rows share the column combination. Rows with a NULL in any of the
    /// columns are left out: not_null tests those.
    Unique { columns: Vec<String> },
    /// The column's non-null values are all in `values`.
    AcceptedValues { column: String, values: Vec<Value> },
    /// Every non-null value of `column` exists in `to`'s `field` (`to` is `layer.table`).
    Relationships { column: String, to: String, field: String },
    /// The column's non-null values lie within `min..=max`; either bound may be left out.
    Range {
        column: String,
        min: Option<Value>,
        max: Option<Value>,
    },
    /// The table's row count lies within `min..=max`.
    RowCount { min: Option<u64>, max: Option<u64> },
    /// The row count moved by at most `tolerance_pct` percent from the previous business date's.
    RowCountChange { tolerance_pct: f64 },
    /// A SQL predicate that holds for every row. Rows where it is NULL pass, as in a CHECK constraint.
    Expression { expression: String },
}

/// A literal in a test: an accepted value or a range bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A string, or a date or timestamp (a TOML date literal is read as its text).
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Text(v) => write!(f, "'{v}'"),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a boolean, a string or a date")
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.to_string()))
            }

            /// TOML hands date literals (`min = 2024-01-01`) over as a one-entry map.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
                let datetime = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Value::Text(datetime.to_string()))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// The file format: one struct per `type`, each with the common `name` and `severity`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum RawSpec {
    NotNull {
        columns: Vec<String>,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    Unique {
        columns: Vec<String>,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    AcceptedValues {
        column: String,
        values: Vec<Value>,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    Relationships {
        column: String,
        to: String,
        field: String,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    Range {
        column: String,
        min: Option<Value>,
        max: Option<Value>,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    RowCountChange {
        tolerance_pct: f64,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
    Expression {
        expression: String,
        name: Option<String>,
        #[serde(default)]
        severity: Severity,
    },
}

impl From<RawSpec> for DataTestSpec {
    fn from(raw: RawSpec) -> Self {
        let (kind, name, severity) = match raw {
            RawSpec::NotNull {
                columns,
                name,
                severity,
            } => (TestKind::NotNull { columns }, name, severity),
            RawSpec::Unique {
                columns,
                name,
                severity,
            } => (TestKind::Unique { columns }, name, severity),
            RawSpec::AcceptedValues {
                column,
                values,
                name,
                severity,
            } => (TestKind::AcceptedValues { column, values }, name, severity),
            RawSpec::Relationships {
                column,
                to,
                field,
                name,
                severity,
            } => (TestKind::Relationships { column, to, field }, name, severity),
            RawSpec::Range {
                column,
                min,
                max,
                name,
                severity,
            } => (TestKind::Range { column, min, max }, name, severity),
            RawSpec::RowCount {
                min,
                max,
                name,
                severity,
            } => (TestKind::RowCount { min, max }, name, severity),
            RawSpec::RowCountChange {
                tolerance_pct,
                name,
                severity,
            } => (TestKind::RowCountChange { tolerance_pct }, name, severity),
            RawSpec::Expression {
                expression,
                name,
                severity,
            } => (TestKind::Expression { expression }, name, severity),
        };
        DataTestSpec { name, severity, kind }
    }
}

impl TestKind {
    /// The `type` as written in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            TestKind::NotNull { .. } => "not_null",
            TestKind::Unique { .. } => "unique",
            TestKind::AcceptedValues { .. } => "accepted_values",
            TestKind::Relationships { .. } => "relationships",
            TestKind::Range { .. } => "range",
            TestKind::RowCount { .. } => "row_count",
            TestKind::RowCountChange { .. } => "row_count_change",
            TestKind::Expression { .. } => "expression",
        }
    }
}

impl DataTestSpec {
    /// The given name, or one made from the type and its columns: `not_null(customer_id)`,
    /// `relationships(customer_id, foundation.customer.customer_id)`, `row_count`.
    pub fn name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let ty = self.kind.type_name();
        match &self.kind {
            TestKind::NotNull { columns } | TestKind::Unique { columns } => format!("{ty}({})", columns.join(", ")),
            TestKind::AcceptedValues { column, .. } | TestKind::Range { column, .. } => format!("{ty}({column})"),
            TestKind::Relationships { column, to, field } => format!("{ty}({column}, {to}.{field})"),
            TestKind::RowCount { .. } | TestKind::RowCountChange { .. } => ty.to_string(),
            TestKind::Expression { expression } => format!("{ty}({})", expression.trim()),
        }
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }
}

// ---------------------------------------------------------------- compile-time check

/// Check a test against the schema of its model without reading data. `known_tables`
/// maps `layer.table` to its schema, for relationships. The message names the test:
/// `test 'not_null(custmer_id)': the model has no column 'custmer_id'; did you mean 'customer_id'?`.
pub fn check(
    spec: &DataTestSpec,
    schema: &Schema,
    known_tables: &dyn Fn(&str) -> Option<SchemaRef>,
) -> Result<(), String> {
    check_kind(spec, schema, known_tables).map_err(|message| format!("test '{}': {message}", spec.name()))
}

fn check_kind(
    spec: &DataTestSpec,
    schema: &Schema,
    known_tables: &dyn Fn(&str) -> Option<SchemaRef>,
) -> Result<(), String> {
    if spec.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err("the name is empty: leave it out for a generated one".into());
    }
    match &spec.kind {
        TestKind::NotNull { columns } | TestKind::Unique { columns } => {
            if columns.is_empty() {
                return Err("list at least one column in `columns`".into());
            }
            for column in columns {
                field(schema, column, "the model")?;
            }
        }
        TestKind::AcceptedValues { column, values } => {
            let f = field(schema, column, "the model")?;
            if values.is_empty() {
                return Err("list at least one value in `values`".into());
            }
            for value in values {
                literal_for(value, f)?;
            }
        }
        TestKind::Relationships {
            column,
            to,
            field: to_field,
        } => {
            let f = field(schema, column, "the model")?;
            let target =
                known_tables(to).ok_or_else(|| format!("unknown table '{to}' in `to` (name it as layer.table)"))?;
            let tf = field(&target, to_field, to)?;
            if family(f.data_type()).is_none() || family(f.data_type()) != family(tf.data_type()) {
                return Err(format!(
                    "{column} ({}) cannot be compared with {to}.{to_field} ({})",
                    crate::compile::type_name(f.data_type()),
                    crate::compile::type_name(tf.data_type())
                ));
            }
        }
        TestKind::Range { column, min, max } => {
            let f = field(schema, column, "the model")?;
            let dt = f.data_type();
            if !(dt.is_numeric() || is_temporal(dt)) {
                return Err(format!(
                    "range needs a number, date or timestamp column; {column} is {}",
                    crate::compile::type_name(dt)
                ));
            }
            let (min, max) = match (min, max) {
                (None, None) => return Err("give `min`, `max` or both".into()),
                (min, max) => (
                    min.as_ref().map(|v| literal_for(v, f)).transpose()?,
                    max.as_ref().map(|v| literal_for(v, f)).transpose()?,
                ),
            };
            if let (Some(lo), Some(hi)) = (&min, &max)
                && compare(lo, hi) == Some(Ordering::Greater)
            {
                return Err(format!("min {} is greater than max {}", lo, hi));
            }
        }
        TestKind::RowCount { min, max } => match (min, max) {
            (None, None) => return Err("give `min`, `max` or both".into()),
            (Some(lo), Some(hi)) if lo > hi => return Err(format!("min {lo} is greater than max {hi}")),
            _ => {}
        },
        TestKind::RowCountChange { tolerance_pct } => {
            if !tolerance_pct.is_finite() || *tolerance_pct < 0.0 {
                return Err(format!("tolerance_pct must be 0 or more, not {tolerance_pct}"));
            }
        }
        TestKind::Expression { expression } => check_expression(expression, schema)?,
    }
    Ok(())
}

/// Parse and plan the predicate against an empty table of `schema`.
fn check_expression(expression: &str, schema: &Schema) -> Result<(), String> {
    let ctx = engine::session(1).map_err(|e| format!("internal error (this is a bug in lakemart): {e}"))?;
    let df_schema = DFSchema::try_from(schema.clone()).map_err(|e| df_message(&e))?;
    let expr = ctx
        .parse_sql_expr(expression, &df_schema)
        .map_err(|e| expression_error(expression, &e, schema))?;
    if expr
        .exists(|e| Ok(matches!(e, Expr::AggregateFunction(_) | Expr::WindowFunction(_))))
        .unwrap_or(false)
    {
        return Err(format!(
            "expression '{expression}' uses an aggregate or window function; it must hold row by row \
             (use row_count or a model for totals)"
        ));
    }
    match expr.get_type(&df_schema) {
        Ok(DataType::Boolean | DataType::Null) => {}
        Ok(other) => {
            return Err(format!(
                "expression '{expression}' is {}, not true or false",
                crate::compile::type_name(&other)
            ));
        }
        Err(e) => return Err(expression_error(expression, &e, schema)),
    }
    let planned = ctx
        .read_table(Arc::new(EmptyTable::new(Arc::new(schema.clone()))))
        .and_then(|df| df.filter(expr))
        .and_then(|df| df.into_optimized_plan());
    planned
        .map(|_| ())
        .map_err(|e| expression_error(expression, &e, schema))
}

/// DataFusion's complaint about an expression, in the words used elsewhere in lakemart.
fn expression_error(expression: &str, e: &DataFusionError, schema: &Schema) -> String {
    if let DataFusionError::SchemaError(inner, _) = e.find_root()
        && let SchemaError::FieldNotFound { field: column, .. } = inner.as_ref()
        && let Err(unknown) = field(schema, &column.name, "the model")
    {
        return format!("expression '{expression}': {unknown}");
    }
    let message = df_message(e);
    let message = message
        .strip_prefix("Error during planning: ")
        .unwrap_or(&message)
        .to_string();
    let message = message
        .strip_prefix("SQL error: ParserError(\"")
        .and_then(|m| m.strip_suffix("\")"))
        .map(|m| format!("syntax error: {m}"))
        .unwrap_or(message);
    format!("expression '{expression}': {message}")
}

/// The column's field, or "unknown column" with the closest names.
fn field<'a>(schema: &'a Schema, column: &str, owner: &str) -> Result<&'a Field, String> {
    schema.field_with_name(column).map_err(|_| {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let hint = match suggest(column, names.iter().copied()) {
            s if s.is_empty() => format!(" (it has: {})", names.join(", ")),
            s => s,
        };
        format!("{owner} has no column '{column}'{hint}")
    })
}

/// Kinds of values that compare as like with like. DataFusion itself would also
/// compare a date with an integer or a string with a number, which a key never should.
fn family(dt: &DataType) -> Option<&'static str> {
    if dt.is_numeric() {
        Some("number")
    } else if is_string(dt) {
        Some("string")
    } else if is_temporal(dt) {
        Some("date")
    } else if dt == &DataType::Boolean {
        Some("boolean")
    } else {
        None
    }
}

fn is_temporal(dt: &DataType) -> bool {
    matches!(dt, DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _))
}

fn is_string(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// A test value as a literal comparable with the column: numbers stay numbers (DataFusion
/// coerces them), date strings become dates or timestamps of the column's type.
fn literal_for(value: &Value, field: &Field) -> Result<ScalarValue, String> {
    let (column, dt) = (field.name(), field.data_type());
    let type_name = crate::compile::type_name(dt);
    match (value, dt) {
        (Value::Int(v), dt) if dt.is_numeric() => Ok(ScalarValue::Int64(Some(*v))),
        (Value::Float(v), dt) if dt.is_numeric() => Ok(ScalarValue::Float64(Some(*v))),
        (Value::Text(v), dt) if is_temporal(dt) => match ScalarValue::try_from_string(v.clone(), dt) {
            Ok(s) if !s.is_null() => Ok(s),
            _ => Err(format!("'{v}' is not a valid {type_name} for column {column}")),
        },
        (Value::Text(v), dt) if is_string(dt) => Ok(ScalarValue::Utf8(Some(v.clone()))),
        (Value::Bool(v), DataType::Boolean) => Ok(ScalarValue::Boolean(Some(*v))),
        (value, dt) => {
            let how = if dt.is_numeric() {
                "write a number"
            } else if is_temporal(dt) {
                "write a date string such as \"2024-01-01\""
            } else if is_string(dt) {
                "write a quoted string"
            } else if dt == &DataType::Boolean {
                "write true or false"
            } else {
                "values cannot be compared with it"
            };
            Err(format!("{value} does not fit column {column} ({type_name}): {how}"))
        }
    }
}

/// Order of two literals from [`literal_for`]; integers and floats compare as numbers.
fn compare(a: &ScalarValue, b: &ScalarValue) -> Option<Ordering> {
    match (a, b) {
        (ScalarValue::Int64(Some(x)), ScalarValue::Float64(Some(y))) => (*x as f64).partial_cmp(y),
        (ScalarValue::Float64(Some(x)), ScalarValue::Int64(Some(y))) => x.partial_cmp(&(*y as f64)),
        _ => a.partial_cmp(b),
    }
}

// ---------------------------------------------------------------- running

/// How a test came out.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    Pass,
    /// Failed with severity `error`: the model fails.
    Fail,
    /// Failed with severity `warn`.
    Warn,
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestStatus::Pass => "PASS",
            TestStatus::Fail => "FAIL",
            TestStatus::Warn => "WARN",
        })
    }
}

/// The result of one data test on one model.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    pub severity: Severity,
    pub status: TestStatus,
    /// Rows that break the test (0 for the table-level row_count tests; for unique,
    /// every row whose key occurs more than once).
    pub failing_rows: u64,
    /// Up to five failing rows as `col=value, …`, the tested columns first.
    pub sample: Vec<String>,
    /// What was found, e.g. "3 rows where customer_id is NULL".
    pub message: String,
}

/// What a test measured, before severity turns it into a status.
struct Measured {
    passed: bool,
    failing_rows: u64,
    sample: Vec<String>,
    message: String,
}

/// Run one test on `model` (`layer.table`), which — with any relationships target — is
/// registered in `ctx` as `layer.table`. `previous_row_count` is the model's row count
/// on the previous business date, for row_count_change.
pub async fn run_test(
    ctx: &SessionContext,
    model: &str,
    spec: &DataTestSpec,
    previous_row_count: Option<u64>,
) -> Result<TestOutcome, Error> {
    let name = spec.name();
    let model_error = |message: String, transient: bool| Error::Model {
        model: model.to_string(),
        message: format!("test '{name}': {message}"),
        transient,
    };
    let measured = measure(ctx, model, &spec.kind, previous_row_count)
        .await
        .map_err(|e| match e {
            RunError::Name(message) => model_error(message, false),
            RunError::DataFusion(e) => {
                // Storage trouble while reading is worth another attempt; a bad plan is not.
                let transient = matches!(
                    e.find_root(),
                    DataFusionError::ObjectStore(_) | DataFusionError::IoError(_)
                );
                model_error(df_message(&e), transient)
            }
        })?;
    let status = match (measured.passed, spec.severity) {
        (true, _) => TestStatus::Pass,
        (false, Severity::Error) => TestStatus::Fail,
        (false, Severity::Warn) => TestStatus::Warn,
    };
    Ok(TestOutcome {
        name,
        severity: spec.severity,
        status,
        failing_rows: measured.failing_rows,
        sample: measured.sample,
        message: measured.message,
    })
}

enum RunError {
    Name(String),
    DataFusion(DataFusionError),
}

impl From<DataFusionError> for RunError {
    fn from(e: DataFusionError) -> Self {
        RunError::DataFusion(e)
    }
}

fn table_ref(name: &str) -> Result<TableReference, RunError> {
    match name.split_once('.') {
        Some((layer, table)) if !layer.is_empty() && !table.is_empty() => Ok(TableReference::partial(layer, table)),
        _ => Err(RunError::Name(format!("'{name}' is not a layer.table name"))),
    }
}

async fn measure(
    ctx: &SessionContext,
    model: &str,
    kind: &TestKind,
    previous_row_count: Option<u64>,
) -> Result<Measured, RunError> {
    let table = ctx.table(table_ref(model)?).await?;
    let measured = match kind {
        TestKind::NotNull { columns } => {
            let predicate = any(columns.iter().map(|c| ident(c).is_null()));
            let condition = format!("{} is NULL", columns.join(" or "));
            failing(table.filter(predicate)?, columns, condition).await?
        }
        TestKind::Unique { columns } => unique(table, columns).await?,
        TestKind::AcceptedValues { column, values } => {
            let field = table.schema().field_with_unqualified_name(column)?.clone();
            let list = values
                .iter()
                .map(|v| literal_for(v, &field).map(lit))
                .collect::<Result<Vec<_>, _>>()
                .map_err(RunError::Name)?;
            let predicate = ident(column).is_not_null().and(in_list(ident(column), list, true));
            let shown: Vec<String> = values.iter().map(ToString::to_string).collect();
            let condition = format!("{column} is not one of {}", shown.join(", "));
            failing(table.filter(predicate)?, std::slice::from_ref(column), condition).await?
        }
        TestKind::Relationships { column, to, field } => {
            const KEY: &str = "__lakemart_relationship_key";
            let target = ctx.table(table_ref(to)?).await?.select(vec![ident(field).alias(KEY)])?;
            let orphans = table.filter(ident(column).is_not_null())?.join_on(
                target,
                JoinType::LeftAnti,
                [ident(column).eq(ident(KEY))],
            )?;
            let condition = format!("{column} has no match in {to}.{field}");
            failing(orphans, std::slice::from_ref(column), condition).await?
        }
        TestKind::Range { column, min, max } => {
            let field = table.schema().field_with_unqualified_name(column)?.clone();
            let bound = |v: &Option<Value>| v.as_ref().map(|v| literal_for(v, &field)).transpose();
            let (lo, hi) = (bound(min).map_err(RunError::Name)?, bound(max).map_err(RunError::Name)?);
            let mut outside = Vec::new();
            let mut words = Vec::new();
            if let (Some(lo), Some(v)) = (lo, min) {
                outside.push(ident(column).lt(lit(lo)));
                words.push(format!("below {v}"));
            }
            if let (Some(hi), Some(v)) = (hi, max) {
                outside.push(ident(column).gt(lit(hi)));
                words.push(format!("above {v}"));
            }
            let predicate = ident(column).is_not_null().and(any(outside.into_iter()));
            let condition = format!("{column} is {}", words.join(" or "));
            failing(table.filter(predicate)?, std::slice::from_ref(column), condition).await?
        }
        TestKind::RowCount { min, max } => {
            let rows = table.count().await? as u64;
            let passed = min.is_none_or(|m| rows >= m) && max.is_none_or(|m| rows <= m);
            let expected = match (min, max) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
                (Some(lo), None) => format!("at least {lo}"),
                (None, Some(hi)) => format!("at most {hi}"),
                (None, None) => "any number".to_string(),
            };
            Measured {
                passed,
                failing_rows: 0,
                sample: Vec::new(),
                message: format!("{} (expected {expected})", rows_word(rows)),
            }
        }
        TestKind::RowCountChange { tolerance_pct } => {
            let rows = table.count().await? as u64;
            let (passed, message) = match previous_row_count {
                None => (
                    true,
                    format!("{}; no previous business date to compare with", rows_word(rows)),
                ),
                Some(0) if rows == 0 => (true, "0 rows, as on the previous business date".to_string()),
                Some(0) => (
                    false,
                    format!(
                        "{}, up from 0 on the previous business date (tolerance {tolerance_pct}%)",
                        rows_word(rows)
                    ),
                ),
                Some(previous) => {
                    let change = (rows as f64 - previous as f64) / previous as f64 * 100.0;
                    (
                        change.abs() <= *tolerance_pct,
                        format!(
                            "{}, {change:+.1}% from {previous} on the previous business date (tolerance {tolerance_pct}%)",
                            rows_word(rows)
                        ),
                    )
                }
            };
            Measured {
                passed,
                failing_rows: 0,
                sample: Vec::new(),
                message,
            }
        }
        TestKind::Expression { expression } => {
            let predicate = ctx.parse_sql_expr(expression, table.schema())?;
            let used: Vec<&str> = predicate.column_refs().iter().map(|c| c.name.as_str()).collect();
            let tested: Vec<String> = (table.schema().fields().iter())
                .map(|f| f.name().clone())
                .filter(|n| used.contains(&n.as_str()))
                .collect();
            let condition = format!("{} is false", expression.trim());
            failing(table.filter(predicate.is_false())?, &tested, condition).await?
        }
    };
    Ok(measured)
}

/// `a OR b OR …`; `false` for none.
fn any(exprs: impl Iterator<Item = Expr>) -> Expr {
    exprs.reduce(Expr::or).unwrap_or_else(|| lit(false))
}

fn rows_word(n: u64) -> String {
    if n == 1 { "1 row".into() } else { format!("{n} rows") }
}

/// Count and sample the rows of `failing`.
async fn failing(failing: DataFrame, tested: &[String], condition: String) -> Result<Measured, DataFusionError> {
    let failing_rows = failing.clone().count().await? as u64;
    let sample = if failing_rows == 0 {
        Vec::new()
    } else {
        sample(failing, tested).await?
    };
    Ok(Measured {
        passed: failing_rows == 0,
        failing_rows,
        sample,
        message: format!("{} where {condition}", rows_word(failing_rows)),
    })
}

/// Keys that occur more than once, with how many rows each covers.
async fn unique(table: DataFrame, columns: &[String]) -> Result<Measured, DataFusionError> {
    let rows_column = ["rows", "duplicate_rows", "__lakemart_rows"]
        .into_iter()
        .find(|n| !columns.iter().any(|c| c == n))
        .unwrap_or("__lakemart_rows");
    let keys: Vec<Expr> = columns.iter().map(ident).collect();
    let not_null = keys
        .iter()
        .map(|k| k.clone().is_not_null())
        .reduce(Expr::and)
        .unwrap_or_else(|| lit(true));
    let duplicates = table
        .filter(not_null)?
        .aggregate(keys.clone(), vec![count(lit(1)).alias(rows_column)])?
        .filter(ident(rows_column).gt(lit(1_i64)))?;
    let totals = duplicates
        .clone()
        .aggregate(
            vec![],
            vec![count(lit(1)).alias("keys"), sum(ident(rows_column)).alias("rows")],
        )?
        .collect()
        .await?;
    let read = |column: usize| -> u64 {
        totals
            .first()
            .filter(|b| b.num_rows() > 0)
            .and_then(|b| ScalarValue::try_from_array(b.column(column), 0).ok())
            .and_then(|v| match v {
                ScalarValue::Int64(Some(n)) => u64::try_from(n).ok(),
                _ => None,
            })
            .unwrap_or(0)
    };
    let (duplicate_keys, failing_rows) = (read(0), read(1));
    let sample = if duplicate_keys == 0 {
        Vec::new()
    } else {
        let mut order: Vec<SortExpr> = vec![ident(rows_column).sort(false, true)];
        order.extend(keys.iter().map(|k| k.clone().sort(true, true)));
        let batches = duplicates.sort(order)?.limit(0, Some(SAMPLE_ROWS))?.collect().await?;
        render(&batches, false)?
    };
    let key = if columns.len() == 1 {
        columns[0].clone()
    } else {
        format!("({})", columns.join(", "))
    };
    let values = if duplicate_keys == 1 {
        "1 value".to_string()
    } else {
        format!("{duplicate_keys} values")
    };
    let message = format!(
        "{} where {values} of {key} occur{} more than once",
        rows_word(failing_rows),
        if duplicate_keys == 1 { "s" } else { "" }
    );
    Ok(Measured {
        passed: failing_rows == 0,
        failing_rows,
        sample,
        message,
    })
}

/// Up to [`SAMPLE_ROWS`] rows of `df`, the `tested` columns first, in a stable order.
async fn sample(df: DataFrame, tested: &[String]) -> Result<Vec<String>, DataFusionError> {
    let mut columns: Vec<(Column, &DataType)> = Vec::new();
    let all: Vec<(Column, &DataType)> = df
        .schema()
        .iter()
        .map(|(qualifier, field)| (Column::from((qualifier, field)), field.data_type()))
        .collect();
    for name in tested {
        if let Some(c) = all.iter().find(|(c, _)| &c.name == name) {
            columns.push(c.clone());
        }
    }
    for c in &all {
        if !columns.iter().any(|(seen, _)| seen == &c.0) {
            columns.push(c.clone());
        }
    }
    let truncated = columns.len() > SAMPLE_COLUMNS;
    columns.truncate(SAMPLE_COLUMNS);
    let order: Vec<SortExpr> = columns
        .iter()
        .filter(|(_, dt)| !dt.is_nested())
        .map(|(c, _)| Expr::Column(c.clone()).sort(true, true))
        .collect();
    let select: Vec<Expr> = columns.into_iter().map(|(c, _)| Expr::Column(c)).collect();
    let batches = df
        .clone()
        .select(select)?
        .sort(order)?
        .limit(0, Some(SAMPLE_ROWS))?
        .collect()
        .await?;
    render(&batches, truncated)
}

/// Rows as `col=value, …` (`, …` at the end when columns were left out).
fn render(batches: &[RecordBatch], truncated: bool) -> Result<Vec<String>, DataFusionError> {
    let options = FormatOptions::new().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|a| ArrayFormatter::try_new(a.as_ref() as &dyn Array, &options))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut cells: Vec<String> = schema
                .fields()
                .iter()
                .zip(&formatters)
                .map(|(f, fmt)| {
                    let value = fmt.value(row).to_string();
                    let value = if value.chars().count() > SAMPLE_VALUE_CHARS {
                        format!("{}…", value.chars().take(SAMPLE_VALUE_CHARS).collect::<String>())
                    } else {
                        value
                    };
                    format!("{}={value}", f.name())
                })
                .collect();
            if truncated {
                cells.push("…".into());
            }
            rows.push(cells.join(", "));
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray};
    use deltalake::datafusion::datasource::MemTable;

    use crate::project::Layer;

    /// Parse `[[tests]]` entries the way `models.tests` is read.
    fn specs(toml_text: &str) -> Vec<DataTestSpec> {
        #[derive(Deserialize)]
        struct File {
            tests: Vec<DataTestSpec>,
        }
        toml::from_str::<File>(toml_text).expect("valid tests").tests
    }

    fn spec(toml_text: &str) -> DataTestSpec {
        specs(&format!("[[tests]]\n{toml_text}")).remove(0)
    }

    fn parse_error(toml_text: &str) -> String {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct File {
            tests: Vec<DataTestSpec>,
        }
        toml::from_str::<File>(&format!("[[tests]]\n{toml_text}"))
            .expect_err("invalid test")
            .message()
            .to_string()
    }

    /// foundation.customer:
    ///
    /// | customer_id | gender | age  | birth_date | aum_cny | vip  |
    /// |-------------|--------|------|------------|---------|------|
    /// | 1           | M      | 34   | 1990-01-01 | 100.0   | true |
    /// | 2           | F      | 51   | 1973-05-06 | 0.0     | NULL |
    /// | 3           | X      | 130  | 1890-02-03 | -5.5    | false|
    /// | 3           | NULL   | -1   | NULL       | NULL    | true |
    /// | NULL        | F      | NULL | 2001-12-31 | 20.0    | true |
    ///
    /// foundation.account: (account_id, customer_id) = (10, 1), (11, 2), (12, 9), (13, 8), (14, NULL).
    fn session() -> SessionContext {
        let ctx = engine::session(1).expect("session");
        let customer = RecordBatch::try_from_iter(vec![
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(3), Some(3), None])) as ArrayRef,
            ),
            (
                "gender",
                Arc::new(StringArray::from(vec![
                    Some("M"),
                    Some("F"),
                    Some("X"),
                    None,
                    Some("F"),
                ])),
            ),
            (
                "age",
                Arc::new(Int64Array::from(vec![Some(34), Some(51), Some(130), Some(-1), None])),
            ),
            (
                "birth_date",
                Arc::new(Date32Array::from(vec![
                    Some(7305),   // 1990-01-01
                    Some(1221),   // 1973-05-06
                    Some(-29186), // 1890-02-03
                    None,
                    Some(11687), // 2001-12-31
                ])),
            ),
            (
                "aum_cny",
                Arc::new(Float64Array::from(vec![
                    Some(100.0),
                    Some(0.0),
                    Some(-5.5),
                    None,
                    Some(20.0),
                ])),
            ),
            (
                "vip",
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    None,
                    Some(false),
                    Some(true),
                    Some(true),
                ])),
            ),
        ])
        .expect("customer batch");
        let account = RecordBatch::try_from_iter(vec![
            (
                "account_id",
                Arc::new(Int64Array::from(vec![10, 11, 12, 13, 14])) as ArrayRef,
            ),
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(9), Some(8), None])),
            ),
        ])
        .expect("account batch");
        for (table, batch) in [("customer", customer), ("account", account)] {
            let provider = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("mem table");
            engine::register(&ctx, Layer::Foundation, table, Arc::new(provider)).expect("register");
        }
        ctx
    }

    async fn run(model: &str, toml_text: &str, previous: Option<u64>) -> TestOutcome {
        let ctx = session();
        run_test(&ctx, model, &spec(toml_text), previous)
            .await
            .expect("test runs")
    }

    fn customer_schema() -> Schema {
        Schema::new(vec![
            Field::new("customer_id", DataType::Int64, true),
            Field::new("gender", DataType::Utf8, true),
            Field::new("age", DataType::Int32, true),
            Field::new("birth_date", DataType::Date32, true),
            Field::new("aum_cny", DataType::Decimal128(18, 2), true),
            Field::new("biz_date", DataType::Date32, false),
        ])
    }

    fn known(name: &str) -> Option<SchemaRef> {
        (name == "foundation.customer").then(|| Arc::new(customer_schema()))
    }

    fn check_error(toml_text: &str) -> String {
        check(&spec(toml_text), &customer_schema(), &known).expect_err("check fails")
    }

    // ------------------------------------------------------------ format

    #[test]
    fn the_documented_format_parses() {
        let tests = specs(
            r#"
[[tests]]
type = "not_null"
columns = ["customer_id"]
severity = "error"

[[tests]]
type = "unique"
columns = ["customer_id", "biz_date"]

[[tests]]
type = "accepted_values"
column = "gender"
values = ["M", "F"]

[[tests]]
type = "relationships"
column = "customer_id"
to = "foundation.customer"
field = "customer_id"

[[tests]]
type = "range"
column = "age"
min = 0
max = 120

[[tests]]
type = "row_count"
min = 1
max = 5000000

[[tests]]
type = "row_count_change"
tolerance_pct = 20

[[tests]]
type = "expression"
expression = "aum_cny >= 0"
name = "aum_not_negative"
severity = "warn"
"#,
        );
        let names: Vec<String> = tests.iter().map(DataTestSpec::name).collect();
        assert_eq!(
            names,
            [
                "not_null(customer_id)",
                "unique(customer_id, biz_date)",
                "accepted_values(gender)",
                "relationships(customer_id, foundation.customer.customer_id)",
                "range(age)",
                "row_count",
                "row_count_change",
                "aum_not_negative",
            ]
        );
        assert_eq!(
            tests[4].kind,
            TestKind::Range {
                column: "age".into(),
                min: Some(Value::Int(0)),
                max: Some(Value::Int(120)),
            }
        );
        assert_eq!(tests[6].kind, TestKind::RowCountChange { tolerance_pct: 20.0 });
        assert_eq!(tests[0].severity(), Severity::Error);
        assert_eq!(tests[1].severity(), Severity::Error);
        assert_eq!(tests[7].severity(), Severity::Warn);
    }

    #[test]
    fn dates_may_be_strings_or_toml_dates() {
        let quoted = spec("type = \"range\"\ncolumn = \"birth_date\"\nmin = \"1900-01-01\"");
        let bare = spec("type = \"range\"\ncolumn = \"birth_date\"\nmin = 1900-01-01");
        assert_eq!(quoted, bare);
        assert_eq!(
            bare.kind,
            TestKind::Range {
                column: "birth_date".into(),
                min: Some(Value::Text("1900-01-01".into())),
                max: None,
            }
        );
    }

    #[test]
    fn unknown_fields_and_types_are_rejected() {
        assert_eq!(
            parse_error("type = \"not_null\"\ncolumn = \"a\""),
            "unknown field `column`, expected one of `columns`, `name`, `severity`"
        );
        assert!(
            parse_error("type = \"not_nul\"\ncolumns = [\"a\"]")
                .starts_with("unknown variant `not_nul`, expected one of"),
        );
        assert_eq!(
            parse_error("type = \"unique\"\ncolumns = [\"a\"]\nseverity = \"fatal\""),
            "unknown variant `fatal`, expected `error` or `warn`"
        );
        assert_eq!(
            parse_error("type = \"accepted_values\"\ncolumn = \"a\""),
            "missing field `values`"
        );
    }

    // ------------------------------------------------------------ check

    #[test]
    fn check_accepts_valid_tests() {
        for text in [
            "type = \"not_null\"\ncolumns = [\"customer_id\", \"biz_date\"]",
            "type = \"unique\"\ncolumns = [\"customer_id\", \"biz_date\"]",
            "type = \"accepted_values\"\ncolumn = \"gender\"\nvalues = [\"M\", \"F\"]",
            "type = \"accepted_values\"\ncolumn = \"age\"\nvalues = [1, 2]",
            "type = \"relationships\"\ncolumn = \"customer_id\"\nto = \"foundation.customer\"\nfield = \"customer_id\"",
            "type = \"range\"\ncolumn = \"age\"\nmin = 0\nmax = 120.5",
            "type = \"range\"\ncolumn = \"aum_cny\"\nmin = 0",
            "type = \"range\"\ncolumn = \"birth_date\"\nmin = \"1900-01-01\"\nmax = 2024-12-31",
            "type = \"row_count\"\nmin = 1",
            "type = \"row_count_change\"\ntolerance_pct = 12.5",
            "type = \"expression\"\nexpression = \"aum_cny >= 0 AND birth_date < DATE '2100-01-01'\"",
        ] {
            assert_eq!(check(&spec(text), &customer_schema(), &known), Ok(()), "{text}");
        }
    }

    #[test]
    fn check_unknown_column_suggests_the_closest() {
        assert_eq!(
            check_error("type = \"not_null\"\ncolumns = [\"custmer_id\"]"),
            "test 'not_null(custmer_id)': the model has no column 'custmer_id'; did you mean 'customer_id'?"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"zzz\"\nmin = 1"),
            "test 'range(zzz)': the model has no column 'zzz' \
             (it has: customer_id, gender, age, birth_date, aum_cny, biz_date)"
        );
    }

    #[test]
    fn check_relationship_targets() {
        assert_eq!(
            check_error(
                "type = \"relationships\"\ncolumn = \"customer_id\"\nto = \"foundation.custmer\"\nfield = \"customer_id\""
            ),
            "test 'relationships(customer_id, foundation.custmer.customer_id)': \
             unknown table 'foundation.custmer' in `to` (name it as layer.table)"
        );
        assert_eq!(
            check_error(
                "type = \"relationships\"\ncolumn = \"customer_id\"\nto = \"foundation.customer\"\nfield = \"custome_id\""
            ),
            "test 'relationships(customer_id, foundation.customer.custome_id)': \
             foundation.customer has no column 'custome_id'; did you mean 'customer_id'?"
        );
        assert_eq!(
            check_error(
                "type = \"relationships\"\ncolumn = \"birth_date\"\nto = \"foundation.customer\"\nfield = \"age\""
            ),
            "test 'relationships(birth_date, foundation.customer.age)': \
             birth_date (date) cannot be compared with foundation.customer.age (int)"
        );
    }

    #[test]
    fn check_bad_expressions() {
        let cases = [
            (
                "aum_cny >= ",
                "test 'expression(aum_cny >=)': expression 'aum_cny >= ': \
                 syntax error: Expected: an expression, found: EOF",
            ),
            (
                "aum_cny >= 0; DROP TABLE x",
                "test 'expression(aum_cny >= 0; DROP TABLE x)': expression 'aum_cny >= 0; DROP TABLE x': \
                 syntax error: Expected: end of expression, found: ; at Line: 1, Column: 13",
            ),
            (
                "aum_cyn >= 0",
                "test 'expression(aum_cyn >= 0)': expression 'aum_cyn >= 0': \
                 the model has no column 'aum_cyn'; did you mean 'aum_cny'?",
            ),
            (
                "aum_cny + 1",
                "test 'expression(aum_cny + 1)': expression 'aum_cny + 1' is decimal(23,2), not true or false",
            ),
            (
                "gender * 2 > 1",
                "test 'expression(gender * 2 > 1)': expression 'gender * 2 > 1': \
                 Cannot coerce arithmetic expression Utf8 * Int64 to valid types",
            ),
            (
                "sum(age) > 1",
                "test 'expression(sum(age) > 1)': expression 'sum(age) > 1' uses an aggregate or window \
                 function; it must hold row by row (use row_count or a model for totals)",
            ),
        ];
        for (expression, expected) in cases {
            let text = format!("type = \"expression\"\nexpression = \"{expression}\"");
            assert_eq!(check_error(&text), expected);
        }
    }

    #[test]
    fn check_min_above_max() {
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"age\"\nmin = 120\nmax = 0"),
            "test 'range(age)': min 120 is greater than max 0"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"age\"\nmin = 10.5\nmax = 10"),
            "test 'range(age)': min 10.5 is greater than max 10"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"birth_date\"\nmin = 2024-01-01\nmax = \"2023-01-01\""),
            "test 'range(birth_date)': min 2024-01-01 is greater than max 2023-01-01"
        );
        assert_eq!(
            check_error("type = \"row_count\"\nmin = 10\nmax = 1"),
            "test 'row_count': min 10 is greater than max 1"
        );
    }

    #[test]
    fn check_bounds_and_values_fit_the_column() {
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"birth_date\"\nmin = 0"),
            "test 'range(birth_date)': 0 does not fit column birth_date (date): \
             write a date string such as \"2024-01-01\""
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"birth_date\"\nmax = \"2024-13-01\""),
            "test 'range(birth_date)': '2024-13-01' is not a valid date for column birth_date"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"age\"\nmin = \"0\""),
            "test 'range(age)': '0' does not fit column age (int): write a number"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"gender\"\nmin = \"A\""),
            "test 'range(gender)': range needs a number, date or timestamp column; gender is string"
        );
        assert_eq!(
            check_error("type = \"range\"\ncolumn = \"age\""),
            "test 'range(age)': give `min`, `max` or both"
        );
        assert_eq!(
            check_error("type = \"accepted_values\"\ncolumn = \"gender\"\nvalues = [\"M\", 1]"),
            "test 'accepted_values(gender)': 1 does not fit column gender (string): write a quoted string"
        );
        assert_eq!(
            check_error("type = \"row_count_change\"\ntolerance_pct = -1"),
            "test 'row_count_change': tolerance_pct must be 0 or more, not -1"
        );
        assert_eq!(
            check_error("type = \"unique\"\ncolumns = []\nname = \"pk\""),
            "test 'pk': list at least one column in `columns`"
        );
    }

    // ------------------------------------------------------------ run

    #[tokio::test]
    async fn not_null() {
        let pass = run(
            "foundation.customer",
            "type = \"not_null\"\ncolumns = [\"gender\"]\nname = \"g\"",
            None,
        )
        .await;
        assert_eq!(pass.status, TestStatus::Fail);
        assert_eq!(pass.failing_rows, 1);
        assert_eq!(pass.message, "1 row where gender is NULL");
        assert_eq!(
            pass.sample,
            ["gender=NULL, customer_id=3, age=-1, birth_date=NULL, aum_cny=NULL, vip=true"]
        );

        let both = run(
            "foundation.customer",
            "type = \"not_null\"\ncolumns = [\"customer_id\", \"gender\"]",
            None,
        )
        .await;
        assert_eq!(both.name, "not_null(customer_id, gender)");
        assert_eq!(both.failing_rows, 2);
        assert_eq!(both.message, "2 rows where customer_id or gender is NULL");
        assert_eq!(
            both.sample,
            [
                "customer_id=NULL, gender=F, age=NULL, birth_date=2001-12-31, aum_cny=20.0, vip=true",
                "customer_id=3, gender=NULL, age=-1, birth_date=NULL, aum_cny=NULL, vip=true",
            ]
        );

        let ok = run(
            "foundation.account",
            "type = \"not_null\"\ncolumns = [\"account_id\"]",
            None,
        )
        .await;
        assert_eq!(ok.status, TestStatus::Pass);
        assert_eq!(ok.failing_rows, 0);
        assert_eq!(ok.message, "0 rows where account_id is NULL");
        assert!(ok.sample.is_empty());
    }

    #[tokio::test]
    async fn unique() {
        let fail = run(
            "foundation.customer",
            "type = \"unique\"\ncolumns = [\"customer_id\"]",
            None,
        )
        .await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 2);
        assert_eq!(
            fail.message,
            "2 rows where 1 value of customer_id occurs more than once"
        );
        assert_eq!(fail.sample, ["customer_id=3, rows=2"]);

        let pair = run(
            "foundation.customer",
            "type = \"unique\"\ncolumns = [\"customer_id\", \"vip\"]\nseverity = \"warn\"",
            None,
        )
        .await;
        assert_eq!(pair.status, TestStatus::Pass);
        assert_eq!(pair.severity, Severity::Warn);
        assert_eq!(pair.failing_rows, 0);
        assert_eq!(
            pair.message,
            "0 rows where 0 values of (customer_id, vip) occur more than once"
        );

        let pass = run(
            "foundation.account",
            "type = \"unique\"\ncolumns = [\"account_id\"]",
            None,
        )
        .await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.failing_rows, 0);
    }

    #[tokio::test]
    async fn accepted_values() {
        let fail = run(
            "foundation.customer",
            "type = \"accepted_values\"\ncolumn = \"gender\"\nvalues = [\"M\", \"F\"]",
            None,
        )
        .await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 1);
        assert_eq!(fail.message, "1 row where gender is not one of 'M', 'F'");
        assert_eq!(
            fail.sample,
            ["gender=X, customer_id=3, age=130, birth_date=1890-02-03, aum_cny=-5.5, vip=false"]
        );

        let pass = run(
            "foundation.customer",
            "type = \"accepted_values\"\ncolumn = \"gender\"\nvalues = [\"M\", \"F\", \"X\"]",
            None,
        )
        .await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.message, "0 rows where gender is not one of 'M', 'F', 'X'");

        // Values are literals, never SQL text: a quote is just a character.
        let quoted = run(
            "foundation.customer",
            "type = \"accepted_values\"\ncolumn = \"gender\"\nvalues = [\"M\", \"F\", \"X' OR '1'='1\"]",
            None,
        )
        .await;
        assert_eq!(quoted.failing_rows, 1);
        assert_eq!(
            quoted.message,
            "1 row where gender is not one of 'M', 'F', 'X' OR '1'='1'"
        );

        let numbers = run(
            "foundation.account",
            "type = \"accepted_values\"\ncolumn = \"customer_id\"\nvalues = [1, 2, 8]",
            None,
        )
        .await;
        assert_eq!(numbers.failing_rows, 1);
        assert_eq!(numbers.message, "1 row where customer_id is not one of 1, 2, 8");
        assert_eq!(numbers.sample, ["customer_id=9, account_id=12"]);
    }

    #[tokio::test]
    async fn relationships() {
        let fail = run(
            "foundation.account",
            "type = \"relationships\"\ncolumn = \"customer_id\"\nto = \"foundation.customer\"\nfield = \"customer_id\"",
            None,
        )
        .await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 2);
        assert_eq!(
            fail.message,
            "2 rows where customer_id has no match in foundation.customer.customer_id"
        );
        assert_eq!(
            fail.sample,
            ["customer_id=8, account_id=13", "customer_id=9, account_id=12"]
        );

        // A table pointing at itself: every customer_id is some row's customer_id.
        let pass = run(
            "foundation.customer",
            "type = \"relationships\"\ncolumn = \"customer_id\"\nto = \"foundation.customer\"\nfield = \"customer_id\"",
            None,
        )
        .await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.failing_rows, 0);
        assert_eq!(
            pass.message,
            "0 rows where customer_id has no match in foundation.customer.customer_id"
        );
    }

    #[tokio::test]
    async fn range() {
        let fail = run(
            "foundation.customer",
            "type = \"range\"\ncolumn = \"age\"\nmin = 0\nmax = 120",
            None,
        )
        .await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 2);
        assert_eq!(fail.message, "2 rows where age is below 0 or above 120");
        assert_eq!(
            fail.sample,
            [
                "age=-1, customer_id=3, gender=NULL, birth_date=NULL, aum_cny=NULL, vip=true",
                "age=130, customer_id=3, gender=X, birth_date=1890-02-03, aum_cny=-5.5, vip=false",
            ]
        );

        let dates = run(
            "foundation.customer",
            "type = \"range\"\ncolumn = \"birth_date\"\nmin = 1900-01-01",
            None,
        )
        .await;
        assert_eq!(dates.failing_rows, 1);
        assert_eq!(dates.message, "1 row where birth_date is below '1900-01-01'");

        let pass = run(
            "foundation.customer",
            "type = \"range\"\ncolumn = \"aum_cny\"\nmax = 100",
            None,
        )
        .await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.message, "0 rows where aum_cny is above 100");
    }

    #[tokio::test]
    async fn row_count() {
        let fail = run("foundation.customer", "type = \"row_count\"\nmin = 6\nmax = 10", None).await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 0);
        assert_eq!(fail.message, "5 rows (expected between 6 and 10)");

        let pass = run("foundation.customer", "type = \"row_count\"\nmin = 5", None).await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.message, "5 rows (expected at least 5)");

        let warn = run(
            "foundation.customer",
            "type = \"row_count\"\nmax = 4\nseverity = \"warn\"",
            None,
        )
        .await;
        assert_eq!(warn.status, TestStatus::Warn);
        assert_eq!(warn.message, "5 rows (expected at most 4)");
    }

    #[tokio::test]
    async fn row_count_change() {
        let text = "type = \"row_count_change\"\ntolerance_pct = 20";
        let first = run("foundation.customer", text, None).await;
        assert_eq!(first.status, TestStatus::Pass);
        assert_eq!(first.message, "5 rows; no previous business date to compare with");

        let pass = run("foundation.customer", text, Some(6)).await;
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(
            pass.message,
            "5 rows, -16.7% from 6 on the previous business date (tolerance 20%)"
        );

        let fail = run("foundation.customer", text, Some(4)).await;
        assert_eq!(fail.status, TestStatus::Fail);
        assert_eq!(fail.failing_rows, 0);
        assert_eq!(
            fail.message,
            "5 rows, +25.0% from 4 on the previous business date (tolerance 20%)"
        );

        let from_empty = run("foundation.customer", text, Some(0)).await;
        assert_eq!(from_empty.status, TestStatus::Fail);
        assert_eq!(
            from_empty.message,
            "5 rows, up from 0 on the previous business date (tolerance 20%)"
        );
    }

    #[tokio::test]
    async fn expression() {
        let fail = run(
            "foundation.customer",
            "type = \"expression\"\nexpression = \"aum_cny >= 0\"\nname = \"aum_not_negative\"",
            None,
        )
        .await;
        assert_eq!(fail.name, "aum_not_negative");
        assert_eq!(fail.status, TestStatus::Fail);
        // The NULL aum_cny row passes, as in a CHECK constraint.
        assert_eq!(fail.failing_rows, 1);
        assert_eq!(fail.message, "1 row where aum_cny >= 0 is false");
        assert_eq!(
            fail.sample,
            ["aum_cny=-5.5, customer_id=3, gender=X, age=130, birth_date=1890-02-03, vip=false"]
        );

        let pass = run(
            "foundation.customer",
            "type = \"expression\"\nexpression = \"age < 200 OR gender = 'F'\"",
            None,
        )
        .await;
        assert_eq!(pass.name, "expression(age < 200 OR gender = 'F')");
        assert_eq!(pass.status, TestStatus::Pass);
        assert_eq!(pass.failing_rows, 0);
        assert_eq!(pass.message, "0 rows where age < 200 OR gender = 'F' is false");
    }

    #[tokio::test]
    async fn a_missing_table_is_a_model_error() {
        let ctx = session();
        let e = run_test(&ctx, "foundation.nowhere", &spec("type = \"row_count\"\nmin = 1"), None)
            .await
            .expect_err("no such table");
        let text = e.to_string();
        assert!(
            text.starts_with("model foundation.nowhere: test 'row_count': "),
            "{text}"
        );
        assert!(text.contains("nowhere"), "{text}");
    }

    #[test]
    fn outcomes_serialize_for_reports() {
        let outcome = TestOutcome {
            name: "not_null(a)".into(),
            severity: Severity::Warn,
            status: TestStatus::Warn,
            failing_rows: 1,
            sample: vec!["a=NULL".into()],
            message: "1 row where a is NULL".into(),
        };
        assert_eq!(
            serde_json::to_string(&outcome).expect("json"),
            r#"{"name":"not_null(a)","severity":"warn","status":"warn","failing_rows":1,"sample":["a=NULL"],"message":"1 row where a is NULL"}"#
        );
    }
}
