//! Cleansing rules as DataFusion expressions, evaluated batch by batch on the
//! extract stream in four stages: null tokens; code maps; typing;
//! then each column's final value, its hard-rule reason and its soft-rule flag.
//!
//! Parsing that DataFusion's casts would do leniently (decimals are rounded,
//! dates take one layout) is done by the vectorised functions defined here.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Date32Builder, Decimal128Builder, RecordBatch,
    TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::datafusion::common::{DFSchema, ScalarValue};
use deltalake::datafusion::functions::expr_fn::{concat, lower, nullif, regexp_like};
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, col, ident, in_list, lit,
    try_cast, when,
};
use deltalake::datafusion::physical_plan::PhysicalExpr;
use deltalake::datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::project::{Check, ColumnType, Rule, SourceColumn, SourceTable, ty_name};
use crate::store::days_since_epoch;

/// Separates column, rule and reason in a hard-rule result.
pub const SEP: char = '\u{1f}';

/// One stage: expressions over the previous stage's columns.
struct Stage {
    schema: SchemaRef,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
}

impl Stage {
    fn plan(ctx: &SessionContext, input: &SchemaRef, outputs: Vec<(String, Expr)>) -> Result<Stage> {
        let dfschema = DFSchema::try_from(input.as_ref().clone())?;
        let mut fields = Vec::new();
        let mut exprs = Vec::new();
        for (name, expr) in outputs {
            let physical = ctx.create_physical_expr(expr, &dfschema)?;
            let dt = physical.data_type(input)?;
            fields.push(Field::new(name, dt, true));
            exprs.push(physical);
        }
        Ok(Stage {
            schema: Arc::new(Schema::new(fields)),
            exprs,
        })
    }

    fn eval(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let columns = self
            .exprs
            .iter()
            .map(|e| e.evaluate(batch).and_then(|v| v.into_array(rows)))
            .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &deltalake::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| Error::Internal(format!("cleansing batch: {e}")))
    }
}

/// A table's rules, planned once and applied to every batch.
pub struct Rules {
    stages: Vec<Stage>,
    /// The raw input: one string column per declared column, then `_line`.
    pub input: SchemaRef,
    columns: usize,
    /// Indexes of the hard-reason columns, in declared column order.
    hard: Vec<usize>,
    /// (column name, index of its soft flag) for columns with soft rules.
    soft: Vec<(String, usize)>,
    /// Index of the parsed control-sum column, if any.
    control_sum: Option<usize>,
}

/// One batch after the rules: typed values and what failed.
pub struct Checked {
    /// Typed values of the declared columns, then `_line`.
    pub values: Vec<ArrayRef>,
    /// (row, column, rule, reason) of each row's first hard failure, by row.
    pub hard: Vec<(usize, String, String, String)>,
    /// (column, soft flags) per column with soft rules.
    pub soft: Vec<(String, BooleanArray)>,
    /// The parsed control-sum values (before soft rules).
    pub control_sum: Option<ArrayRef>,
}

fn raw(i: usize) -> String {
    format!("r{i}")
}
fn cleaned(i: usize) -> String {
    format!("t{i}")
}
fn mapped(i: usize) -> String {
    format!("m{i}")
}
fn parsed(i: usize) -> String {
    format!("p{i}")
}

impl Rules {
    pub fn plan(ctx: &SessionContext, table: &SourceTable) -> Result<Rules> {
        let n = table.columns.len();
        let mut fields: Vec<Field> = (0..n).map(|i| Field::new(raw(i), DataType::Utf8, true)).collect();
        fields.push(Field::new("_line", DataType::Int64, true));
        let input: SchemaRef = Arc::new(Schema::new(fields));
        let line = || ("_line".to_string(), col("_line"));

        // 1. null tokens (the reader has trimmed where the column says so)
        let stage1: Vec<(String, Expr)> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let text = ident(raw(i));
                let expr = match c.null_values.as_slice() {
                    [] => text,
                    [token] => nullif(text, lit(token.as_str())),
                    tokens => when(
                        in_list(text.clone(), tokens.iter().map(|t| lit(t.as_str())).collect(), false),
                        lit(ScalarValue::Utf8(None)),
                    )
                    .otherwise(text)
                    .expect("case with an else"),
                };
                (cleaned(i), expr)
            })
            .chain([line()])
            .collect();
        let s1 = Stage::plan(ctx, &input, stage1)?;

        // 2. code maps (the cleaned value stays for messages)
        let stage2: Vec<(String, Expr)> = table
            .columns
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let t = ident(cleaned(i));
                let m = match &c.map {
                    None => t.clone(),
                    Some(pairs) => match pairs.split_first() {
                        None => lit(ScalarValue::Utf8(None)),
                        Some(((k, v), rest)) => {
                            let mut b = deltalake::datafusion::logical_expr::case(t.clone())
                                .when(lit(k.as_str()), lit(v.as_str()));
                            for (k, v) in rest {
                                b = b.when(lit(k.as_str()), lit(v.as_str()));
                            }
                            b.otherwise(lit(ScalarValue::Utf8(None))).expect("case with an else")
                        }
                    },
                };
                [(cleaned(i), t), (mapped(i), m)]
            })
            .chain([line()])
            .collect();
        let s2 = Stage::plan(ctx, &s1.schema, stage2)?;

        // 3. typing
        let stage3: Vec<(String, Expr)> = table
            .columns
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let m = ident(mapped(i));
                [
                    (cleaned(i), ident(cleaned(i))),
                    (mapped(i), m.clone()),
                    (parsed(i), typed(c, m)),
                ]
            })
            .chain([line()])
            .collect();
        let s3 = Stage::plan(ctx, &s2.schema, stage3)?;

        // 4. outcomes: values, `_line`, hard reasons, soft flags, the control sum
        let mut values = Vec::new();
        let mut hard_exprs = Vec::new();
        let mut soft_exprs = Vec::new();
        for (i, c) in table.columns.iter().enumerate() {
            let (hard, soft) = failures(c, i)?;
            let p = ident(parsed(i));
            let value = match &soft {
                Some(s) => when(s.clone(), lit(ScalarValue::try_from(&c.ty.data_type())?)).otherwise(p)?,
                None => p,
            };
            values.push((c.name.clone(), value));
            if let Some(h) = hard {
                hard_exprs.push((format!("h{i}"), h));
            }
            if let Some(s) = soft {
                soft_exprs.push((c.name.clone(), s));
            }
        }
        let mut ordered = values;
        ordered.push(line());
        let hard_idx: Vec<usize> = (0..hard_exprs.len()).map(|k| n + 1 + k).collect();
        ordered.extend(hard_exprs);
        let soft_idx: Vec<(String, usize)> = soft_exprs
            .iter()
            .enumerate()
            .map(|(k, (name, _))| (name.clone(), n + 1 + hard_idx.len() + k))
            .collect();
        ordered.extend(soft_exprs.into_iter().map(|(name, e)| (format!("s{name}"), e)));
        let control_sum = match table.control.as_ref().and_then(|c| c.sum_column.as_ref()) {
            Some(sum) => {
                let i = table
                    .columns
                    .iter()
                    .position(|c| &c.name == sum)
                    .ok_or_else(|| Error::Internal(format!("control sum column {sum} missing")))?;
                ordered.push(("control_sum".into(), ident(parsed(i))));
                Some(ordered.len() - 1)
            }
            None => None,
        };
        let s4 = Stage::plan(ctx, &s3.schema, ordered)?;
        Ok(Rules {
            stages: vec![s1, s2, s3, s4],
            input,
            columns: n,
            hard: hard_idx,
            soft: soft_idx,
            control_sum,
        })
    }

    /// The typed output schema: declared columns, then `_line`.
    pub fn output_schema(&self) -> SchemaRef {
        let last = &self.stages[self.stages.len() - 1].schema;
        Arc::new(Schema::new(last.fields()[..=self.columns].to_vec()))
    }

    /// Apply every stage to a batch of raw strings.
    pub fn apply(&self, batch: &RecordBatch) -> Result<Checked> {
        let mut current = batch.clone();
        for stage in &self.stages {
            current = stage.eval(&current)?;
        }
        let rows = current.num_rows();
        // The first failing column of each row, in declared order; most batches have few.
        let mut hard = Vec::new();
        let mut taken: Vec<bool> = Vec::new();
        for &h in &self.hard {
            let reasons = current.column(h).as_string::<i32>();
            if reasons.null_count() == rows {
                continue;
            }
            taken.resize(rows, false);
            for (row, seen) in taken.iter_mut().enumerate() {
                if reasons.is_valid(row) && !*seen {
                    *seen = true;
                    let mut parts = reasons.value(row).splitn(3, SEP);
                    let column = parts.next().unwrap_or_default().to_string();
                    let rule = parts.next().unwrap_or_default().to_string();
                    let reason = parts.next().unwrap_or_default().to_string();
                    hard.push((row, column, rule, reason));
                }
            }
        }
        hard.sort_by_key(|h| h.0);
        let soft = self
            .soft
            .iter()
            .map(|(name, i)| (name.clone(), current.column(*i).as_boolean().clone()))
            .collect();
        Ok(Checked {
            values: current.columns()[..=self.columns].to_vec(),
            hard,
            soft,
            control_sum: self.control_sum.map(|i| current.column(i).clone()),
        })
    }
}

/// The expression typing a mapped string as the column's type (NULL when it does not parse).
fn typed(c: &SourceColumn, m: Expr) -> Expr {
    match &c.ty {
        ColumnType::String => m,
        ColumnType::Int | ColumnType::BigInt | ColumnType::Double => try_cast(m, c.ty.data_type()),
        ColumnType::Boolean => when(
            in_list(lower(m.clone()), ["true", "1", "y", "yes"].map(lit).to_vec(), false),
            lit(true),
        )
        .when(
            in_list(lower(m), ["false", "0", "n", "no"].map(lit).to_vec(), false),
            lit(false),
        )
        .otherwise(lit(ScalarValue::Boolean(None)))
        .expect("case"),
        ColumnType::Decimal(p, s) => ScalarUDF::new_from_impl(ParseDecimal::new(*p, *s)).call(vec![m]),
        ColumnType::Date => ScalarUDF::new_from_impl(ParseDate::new(
            c.date_format.clone().unwrap_or_else(|| "%Y-%m-%d".into()),
            false,
        ))
        .call(vec![m]),
        ColumnType::Timestamp => ScalarUDF::new_from_impl(ParseDate::new(
            c.date_format.clone().unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into()),
            true,
        ))
        .call(vec![m]),
    }
}

/// A literal of the column's type from a definition's min/max text.
fn bound(c: &SourceColumn, text: &str) -> Result<ScalarValue> {
    let bad = || Error::Internal(format!("bound '{text}' of {} was validated", c.name));
    Ok(match &c.ty {
        ColumnType::Int => ScalarValue::Int32(Some(text.parse().map_err(|_| bad())?)),
        ColumnType::BigInt => ScalarValue::Int64(Some(text.parse().map_err(|_| bad())?)),
        ColumnType::Double => ScalarValue::Float64(Some(text.parse().map_err(|_| bad())?)),
        ColumnType::Decimal(p, s) => {
            ScalarValue::Decimal128(Some(parse_decimal(text, *p, *s).ok_or_else(bad)?), *p, *s)
        }
        ColumnType::Date => ScalarValue::Date32(Some(days_since_epoch(
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?,
        ))),
        ColumnType::Timestamp => ScalarValue::TimestampMicrosecond(
            Some(
                NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                    .map_err(|_| bad())?
                    .and_utc()
                    .timestamp_micros(),
            ),
            None,
        ),
        ColumnType::String | ColumnType::Boolean => ScalarValue::Utf8(Some(text.to_string())),
    })
}

/// The column's hard-failure expression (a `column␟rule␟reason` string or NULL)
/// and its soft-failure flag, if it has rules of that kind.
fn failures(c: &SourceColumn, i: usize) -> Result<(Option<Expr>, Option<Expr>)> {
    let t = || ident(cleaned(i));
    let m = || ident(mapped(i));
    let p = || ident(parsed(i));
    let quoted = |e: Expr, tail: String| concat(vec![lit("'"), e, lit(tail)]);
    // (rule, failed?, reason)
    let mut checks: Vec<(Option<Rule>, &'static str, Expr, Expr)> = Vec::new();
    if c.required {
        checks.push((None, "required", t().is_null(), lit(format!("{} is empty", c.name))));
    }
    if c.map.is_some() {
        checks.push((
            Some(Rule::Map),
            "map",
            t().is_not_null().and(m().is_null()),
            quoted(t(), format!("' is not a code of {}", c.name)),
        ));
    }
    if c.ty != ColumnType::String {
        let what = match (&c.ty, &c.format_text) {
            (ColumnType::Date, f) => format!("date in format {}", f.as_deref().unwrap_or("yyyy-MM-dd")),
            (ColumnType::Timestamp, f) => {
                format!("timestamp in format {}", f.as_deref().unwrap_or("yyyy-MM-dd HH:mm:ss"))
            }
            (ty, _) => ty_name(ty),
        };
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        checks.push((
            Some(Rule::Type),
            "type",
            m().is_not_null().and(p().is_null()),
            quoted(m(), format!("' is not {article} {what}")),
        ));
    }
    if let Some(check) = c.check {
        let valid = match check {
            Check::ResidentId => ScalarUDF::new_from_impl(ValidResidentId::new()).call(vec![p()]),
            Check::Mobile => regexp_like(p(), lit("^1[3-9][0-9]{9}$"), None),
            Check::Email => regexp_like(
                p(),
                lit(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"),
                None,
            ),
        };
        checks.push((
            Some(Rule::Check),
            "check",
            p().is_not_null().and(Expr::Not(Box::new(valid))),
            quoted(p(), format!("' is not a valid {}", check.as_str())),
        ));
    }
    if let Some(pattern) = &c.pattern {
        checks.push((
            Some(Rule::Pattern),
            "pattern",
            m().is_not_null()
                .and(Expr::Not(Box::new(regexp_like(m(), lit(pattern.as_str()), None)))),
            quoted(m(), format!("' does not match {pattern}")),
        ));
    }
    if let Some(min) = &c.min {
        checks.push((
            Some(Rule::Range),
            "range",
            p().is_not_null().and(p().lt(lit(bound(c, min)?))),
            quoted(m(), format!("' is below the minimum {min}")),
        ));
    }
    if let Some(max) = &c.max {
        checks.push((
            Some(Rule::Range),
            "range",
            p().is_not_null().and(p().gt(lit(bound(c, max)?))),
            quoted(m(), format!("' is above the maximum {max}")),
        ));
    }
    let mut hard: Option<deltalake::datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
    let mut soft: Option<Expr> = None;
    for (rule, name, failed, reason) in checks {
        if rule.is_some_and(|r| c.is_soft(r)) {
            soft = Some(match soft {
                None => failed,
                Some(s) => s.or(failed),
            });
            continue;
        }
        let text = concat(vec![lit(format!("{}{SEP}{name}{SEP}", c.name)), reason]);
        hard = Some(match hard {
            None => when(failed, text),
            Some(mut b) => b.when(failed, text),
        });
    }
    let hard = match hard {
        Some(mut b) => Some(b.otherwise(lit(ScalarValue::Utf8(None)))?),
        None => None,
    };
    Ok((hard, soft))
}

/// `"-123.4"` as a decimal(p,s) → its unscaled value (-12340 at scale 2); None when it
/// is not a plain decimal number, has more than `s` decimals or more than `p-s` integer digits.
pub fn parse_decimal(text: &str, precision: u8, scale: i8) -> Option<i128> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = usize::try_from(scale).ok()?;
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > scale
        || int.trim_start_matches('0').len() > precision as usize - scale
    {
        return None;
    }
    let mut value: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        value = value * 10 + i128::from(b - b'0');
    }
    for _ in frac.len()..scale {
        value *= 10;
    }
    Some(if neg { -value } else { value })
}

/// Whether an 18-character PRC resident ID is well formed: 17 digits, a real birth
/// date at positions 7–14, and the ISO 7064 MOD 11-2 check character.
pub fn valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").is_err() {
        return false;
    }
    let sum: u32 = b[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    b[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
}

fn string_arg(args: &ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ArrayRef> {
    let rows = args.number_rows;
    args.args[0].clone().into_array(rows)
}

/// `lakemart_decimal_p_s(text)`: strict decimal parsing, NULL when it does not fit.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseDecimal {
    name: String,
    precision: u8,
    scale: i8,
    signature: Signature,
}

impl ParseDecimal {
    fn new(precision: u8, scale: i8) -> ParseDecimal {
        ParseDecimal {
            name: format!("lakemart_decimal_{precision}_{scale}"),
            precision,
            scale,
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ParseDecimal {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(DataType::Decimal128(self.precision, self.scale))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let input = string_arg(&args)?;
        let input = input.as_string::<i32>();
        let mut out = Decimal128Builder::with_capacity(input.len());
        for v in input.iter() {
            out.append_option(v.and_then(|v| parse_decimal(v, self.precision, self.scale)));
        }
        Ok(ColumnarValue::Array(Arc::new(
            out.finish().with_precision_and_scale(self.precision, self.scale)?,
        )))
    }
}

/// `lakemart_date(text)` / `lakemart_timestamp(text)` in one chrono layout, NULL when it does not parse.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseDate {
    name: String,
    format: String,
    timestamp: bool,
    signature: Signature,
}

impl ParseDate {
    fn new(format: String, timestamp: bool) -> ParseDate {
        ParseDate {
            name: format!("lakemart_{}[{format}]", if timestamp { "timestamp" } else { "date" }),
            format,
            timestamp,
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

/// `YYYYMMDD` without chrono's format machinery (the common mainframe layout).
fn compact_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
}

/// `YYYY-MM-DD`, the same way.
fn iso_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let mut compact = [0u8; 8];
    compact[..4].copy_from_slice(&b[..4]);
    compact[4..6].copy_from_slice(&b[5..7]);
    compact[6..].copy_from_slice(&b[8..]);
    compact_date(std::str::from_utf8(&compact).ok()?)
}

impl ScalarUDFImpl for ParseDate {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(if self.timestamp {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        } else {
            DataType::Date32
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let input = string_arg(&args)?;
        let input = input.as_string::<i32>();
        if self.timestamp {
            let mut out = TimestampMicrosecondBuilder::with_capacity(input.len());
            for v in input.iter() {
                out.append_option(v.and_then(|v| {
                    NaiveDateTime::parse_from_str(v, &self.format)
                        .ok()
                        .map(|t| t.and_utc().timestamp_micros())
                }));
            }
            return Ok(ColumnarValue::Array(Arc::new(out.finish())));
        }
        let compact = self.format == "%Y%m%d";
        let iso = self.format == "%Y-%m-%d";
        let mut out = Date32Builder::with_capacity(input.len());
        for v in input.iter() {
            out.append_option(v.and_then(|v| {
                let d = if compact {
                    compact_date(v)
                } else if iso {
                    iso_date(v)
                } else {
                    NaiveDate::parse_from_str(v, &self.format).ok()
                };
                d.map(days_since_epoch)
            }));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `lakemart_valid_resident_id(text)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ValidResidentId {
    signature: Signature,
}

impl ValidResidentId {
    fn new() -> ValidResidentId {
        ValidResidentId {
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ValidResidentId {
    fn name(&self) -> &str {
        "lakemart_valid_resident_id"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let input = string_arg(&args)?;
        let input = input.as_string::<i32>();
        let mut out = BooleanBuilder::with_capacity(input.len());
        for v in input.iter() {
            out.append_option(v.map(valid_resident_id));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_never_rounded() {
        assert_eq!(parse_decimal("12.34", 18, 2), Some(1234));
        assert_eq!(parse_decimal("-0.5", 18, 2), Some(-50));
        assert_eq!(parse_decimal("7", 18, 2), Some(700));
        assert_eq!(parse_decimal("12.345", 18, 2), None);
        assert_eq!(parse_decimal("123", 4, 2), None);
        assert_eq!(parse_decimal("1e5", 18, 2), None);
        assert_eq!(parse_decimal(".", 18, 2), None);
    }

    #[test]
    fn resident_ids() {
        assert!(valid_resident_id("11010519491231002X"));
        assert!(!valid_resident_id("110105194912310021"));
        assert!(!valid_resident_id("11010519491331002X"));
        assert!(!valid_resident_id("1101051949123100"));
    }

    #[test]
    fn compact_dates() {
        assert_eq!(compact_date("20240229"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(compact_date("20240231"), None);
        assert_eq!(iso_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(iso_date("2024-02-30"), None);
        assert_eq!(iso_date("2024/02/29"), None);
    }
}
