//! Column-level lineage: for every column a model produces, the upstream columns
//! (`layer.table.column`) its value is computed from, read off the model's analyzed
//! DataFusion plan; and the project-wide column graph that `lakemart lineage` walks.
//!
//! What counts:
//! - A column's **lineage** is every upstream column its *value* is computed from:
//!   renames, expressions (`a + b`), CASE (conditions included), casts, aggregate
//!   arguments and their FILTER, GROUP BY keys for the key columns, window function
//!   arguments with their PARTITION BY and ORDER BY, UNION branches, and the output
//!   of scalar and IN subqueries. `count(*)`, literals and `$biz_date` read no column.
//! - **Filters** are kept apart, per model: columns read by WHERE, HAVING, JOIN
//!   conditions (join keys), EXISTS / correlated subquery conditions and DISTINCT ON.
//!   They decide which rows the model holds and how they pair up, not the values.
//! - ORDER BY and LIMIT change neither, and are not recorded.
//!
//! Model-level lineage is the graph itself: [`Compiled::dag`](crate::compile::Compiled)
//! (`deps`, `dependents`, `upstream`, `downstream`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use deltalake::datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use deltalake::datafusion::common::{DFSchema, JoinType, TableReference};
use deltalake::datafusion::logical_expr::utils::grouping_set_to_exprlist;
use deltalake::datafusion::logical_expr::{Distinct, Expr, LogicalPlan, Subquery};
use serde::Serialize;
use serde_json::{Value, json};

use crate::compile::{Compiled, suggest};
use crate::error::{Error, Result};
use crate::project::{Layer, Materialization};

/// Output formats of `lakemart lineage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineageFormat {
    /// An indented tree, one column a line.
    Text,
    /// The same tree as nested JSON objects.
    Json,
}

/// Which way a lineage tree grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards the source extract columns a column is computed from.
    Upstream,
    /// Towards the columns computed from it.
    Downstream,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        }
    }
}

// ---------------------------------------------------------------- one model

/// What one model's SQL reads, column by column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelLineage {
    /// Every output column of the model's SELECT, in order.
    pub columns: Vec<ColumnLineage>,
    /// Upstream columns read by WHERE, HAVING, JOIN and subquery conditions and
    /// DISTINCT ON: they decide which rows there are, not their values.
    pub filters: BTreeSet<String>,
}

/// One output column and the upstream columns (`layer.table.column`) its value is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnLineage {
    pub name: String,
    pub upstream: BTreeSet<String>,
}

impl ModelLineage {
    /// The direct upstream columns of output column `name` (empty for a column the SQL does not produce).
    pub fn upstream_of(&self, name: &str) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .into_iter()
            .flat_map(|c| c.upstream.iter().map(String::as_str))
    }
}

/// Column lineage of one analyzed plan: a single walk over the plan, no planning.
pub fn model_lineage(plan: &LogicalPlan) -> ModelLineage {
    let mut walker = Walker::default();
    let sources = walker.plan(plan);
    let columns = plan
        .schema()
        .fields()
        .iter()
        .zip(sources.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(field, sources)| ColumnLineage {
            name: field.name().clone(),
            upstream: sources.into_iter().flatten().map(|s| s.to_string()).collect(),
        })
        .collect();
    ModelLineage {
        columns,
        filters: walker.filters.iter().map(|s| s.to_string()).collect(),
    }
}

/// The upstream columns of each output column of a plan node, by position.
type Sources = BTreeSet<Arc<str>>;

/// The inputs an expression's column references resolve against.
struct Scope<'a> {
    inputs: Vec<(&'a DFSchema, &'a [Sources])>,
}

impl<'a> Scope<'a> {
    fn one(schema: &'a DFSchema, sources: &'a [Sources]) -> Self {
        Scope {
            inputs: vec![(schema, sources)],
        }
    }

    fn resolve(&self, column: &deltalake::datafusion::common::Column) -> Option<&'a Sources> {
        self.inputs.iter().find_map(|(schema, sources)| {
            let i = schema.maybe_index_of_column(column)?;
            sources.get(i)
        })
    }
}

#[derive(Default)]
struct Walker {
    filters: Sources,
}

impl Walker {
    /// The sources of every output column of `plan`, in schema order.
    fn plan(&mut self, plan: &LogicalPlan) -> Vec<Sources> {
        let width = plan.schema().fields().len();
        match plan {
            LogicalPlan::TableScan(scan) => {
                let table = table_name(&scan.table_name);
                let column = |name: &str| -> Sources {
                    table
                        .as_ref()
                        .map(|t| Sources::from([Arc::from(format!("{t}.{name}"))]))
                        .unwrap_or_default()
                };
                // Filters pushed into a scan (only after optimization) name the table's columns.
                for f in &scan.filters {
                    for c in f.column_refs() {
                        self.filters.extend(column(&c.name));
                    }
                }
                scan.projected_schema
                    .fields()
                    .iter()
                    .map(|f| column(f.name()))
                    .collect()
            }
            LogicalPlan::Projection(p) => {
                let input = self.plan(&p.input);
                let scope = Scope::one(p.input.schema(), &input);
                p.expr.iter().map(|e| self.expr(e, &scope)).collect()
            }
            LogicalPlan::Filter(f) => {
                let input = self.plan(&f.input);
                let used = self.expr(&f.predicate, &Scope::one(f.input.schema(), &input));
                self.filters.extend(used);
                input
            }
            LogicalPlan::Window(w) => {
                let mut out = self.plan(&w.input);
                let computed: Vec<Sources> = {
                    let scope = Scope::one(w.input.schema(), &out);
                    w.window_expr.iter().map(|e| self.expr(e, &scope)).collect()
                };
                out.extend(computed);
                out
            }
            LogicalPlan::Aggregate(a) => {
                let input = self.plan(&a.input);
                let scope = Scope::one(a.input.schema(), &input);
                let groups = grouping_set_to_exprlist(&a.group_expr).unwrap_or_default();
                let mut out: Vec<Sources> = groups.into_iter().map(|e| self.expr(e, &scope)).collect();
                if matches!(a.group_expr.as_slice(), [Expr::GroupingSet(_)]) {
                    out.push(Sources::new()); // __grouping_id
                }
                out.extend(a.aggr_expr.iter().map(|e| self.expr(e, &scope)));
                out
            }
            LogicalPlan::Join(j) => {
                let left = self.plan(&j.left);
                let right = self.plan(&j.right);
                {
                    let (ls, rs) = (Scope::one(j.left.schema(), &left), Scope::one(j.right.schema(), &right));
                    for (l, r) in &j.on {
                        let used = self.expr(l, &ls);
                        self.filters.extend(used);
                        let used = self.expr(r, &rs);
                        self.filters.extend(used);
                    }
                    if let Some(f) = &j.filter {
                        let both = Scope {
                            inputs: vec![(j.left.schema(), &left), (j.right.schema(), &right)],
                        };
                        let used = self.expr(f, &both);
                        self.filters.extend(used);
                    }
                }
                let out = match j.join_type {
                    JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                        left.into_iter().chain(right).collect()
                    }
                    JoinType::LeftSemi | JoinType::LeftAnti => left,
                    JoinType::RightSemi | JoinType::RightAnti => right,
                    // The mark column says whether a match exists: a filter, not a value.
                    JoinType::LeftMark => left.into_iter().chain([Sources::new()]).collect(),
                    JoinType::RightMark => right.into_iter().chain([Sources::new()]).collect(),
                };
                fit(out, width)
            }
            LogicalPlan::Union(u) => {
                let mut out = vec![Sources::new(); width];
                for input in &u.inputs {
                    for (slot, sources) in out.iter_mut().zip(self.plan(input)) {
                        slot.extend(sources);
                    }
                }
                out
            }
            LogicalPlan::RecursiveQuery(r) => {
                let mut out = fit(self.plan(&r.static_term), width);
                for (slot, sources) in out.iter_mut().zip(self.plan(&r.recursive_term)) {
                    slot.extend(sources);
                }
                out
            }
            LogicalPlan::Distinct(Distinct::On(d)) => {
                let input = self.plan(&d.input);
                let scope = Scope::one(d.input.schema(), &input);
                for e in &d.on_expr {
                    let used = self.expr(e, &scope);
                    self.filters.extend(used);
                }
                d.select_expr.iter().map(|e| self.expr(e, &scope)).collect()
            }
            LogicalPlan::Unnest(u) => {
                let input = self.plan(&u.input);
                u.dependency_indices
                    .iter()
                    .map(|i| input.get(*i).cloned().unwrap_or_default())
                    .collect()
            }
            // Same columns as the one input, renamed or requalified at most.
            LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_)
            | LogicalPlan::Repartition(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Subquery(_)
            | LogicalPlan::Distinct(Distinct::All(_)) => match plan.inputs().as_slice() {
                [input] => fit(self.plan(input), width),
                _ => vec![Sources::new(); width],
            },
            // Literals only.
            LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) => vec![Sources::new(); width],
            // Not found in a model's SELECT; match columns by name, else nothing.
            other => {
                let inputs: Vec<(&DFSchema, Vec<Sources>)> = other
                    .inputs()
                    .into_iter()
                    .map(|i| (i.schema().as_ref(), self.plan(i)))
                    .collect();
                let scope = Scope {
                    inputs: inputs.iter().map(|(s, v)| (*s, v.as_slice())).collect(),
                };
                other
                    .schema()
                    .iter()
                    .map(|(q, f)| {
                        scope
                            .resolve(&deltalake::datafusion::common::Column::new(q.cloned(), f.name()))
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect()
            }
        }
    }

    /// The upstream columns an expression's value is computed from. Subqueries
    /// inside it are walked: their filters and correlation columns become filters.
    fn expr(&mut self, e: &Expr, scope: &Scope<'_>) -> Sources {
        let mut out = Sources::new();
        for c in e.column_refs() {
            match scope.resolve(c) {
                Some(s) => out.extend(s.iter().cloned()),
                None => tracing::debug!("lineage: column {c} not found in its input"),
            }
        }
        let _ = e.apply(|e| {
            match e {
                Expr::ScalarSubquery(s) => out.extend(self.subquery(s, scope)),
                Expr::InSubquery(i) => out.extend(self.subquery(&i.subquery, scope)),
                Expr::SetComparison(c) => out.extend(self.subquery(&c.subquery, scope)),
                Expr::Exists(x) => {
                    self.subquery(&x.subquery, scope);
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
        out
    }

    /// The sources of a subquery's (single) output column; its correlation
    /// columns, resolved in the outer scope, are filters.
    fn subquery(&mut self, s: &Subquery, outer: &Scope<'_>) -> Sources {
        for e in &s.outer_ref_columns {
            if let Expr::OuterReferenceColumn(_, c) = e
                && let Some(sources) = outer.resolve(c)
            {
                self.filters.extend(sources.iter().cloned());
            }
        }
        self.plan(&s.subquery).into_iter().flatten().collect()
    }
}

/// `layer.table` for a scan of a lakehouse table; `None` for anything else
/// (a table function, a recursive CTE's work table).
fn table_name(r: &TableReference) -> Option<String> {
    let schema = r.schema()?;
    Layer::parse(schema)?;
    Some(format!("{schema}.{}", r.table()))
}

/// Pad or cut to the node's width, so one surprise never shifts other columns.
fn fit(mut sources: Vec<Sources>, width: usize) -> Vec<Sources> {
    sources.resize(width, Sources::new());
    sources
}

// ---------------------------------------------------------------- the project

/// The column graph of a compiled project: every model column with the columns it
/// is computed from, and the reverse.
#[derive(Debug, Clone, Default)]
pub struct Lineage {
    /// Every model and staged source table with its columns, in table order.
    tables: BTreeMap<String, Vec<String>>,
    /// Column → the columns it is computed from (direct). Model columns only.
    upstream: BTreeMap<String, BTreeSet<String>>,
    /// Column → the columns computed from it (direct).
    downstream: BTreeMap<String, BTreeSet<String>>,
    /// Columns a materialization writes beside the SQL's (`valid_from`, `row_hash`, …).
    written: BTreeSet<String>,
    /// Each model's lineage, as read off its plan.
    models: BTreeMap<String, ModelLineage>,
}

impl Lineage {
    /// Read the lineage of every model of a compiled project (a walk over plans already built).
    pub fn of(compiled: &Compiled) -> Lineage {
        let mut lineage = Lineage::default();
        for (name, schema) in &compiled.source_schemas {
            lineage
                .tables
                .insert(name.clone(), schema.fields().iter().map(|f| f.name().clone()).collect());
        }
        for (name, model) in &compiled.models {
            let ml = model_lineage(&model.plan);
            let produced: BTreeSet<&str> = ml.columns.iter().map(|c| c.name.as_str()).collect();
            let columns: Vec<String> = model.schema.fields().iter().map(|f| f.name().clone()).collect();
            for c in &columns {
                let id = format!("{name}.{c}");
                if produced.contains(c.as_str()) {
                    lineage
                        .upstream
                        .insert(id, ml.upstream_of(c).map(str::to_string).collect());
                } else {
                    lineage.written.insert(id);
                }
            }
            lineage.tables.insert(name.clone(), columns);
            // A snapshot_diff model's change set: the model's columns plus bookkeeping.
            let materialization = compiled.project.models[name]
                .meta
                .as_ref()
                .map(|m| m.materialization)
                .unwrap_or_default();
            if materialization == Materialization::SnapshotDiff {
                let changes = format!("{name}_changes");
                let schema = crate::materialize::changes_schema(model.plan.schema().as_arrow());
                let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
                for c in &columns {
                    let id = format!("{changes}.{c}");
                    if produced.contains(c.as_str()) {
                        lineage.upstream.insert(id, BTreeSet::from([format!("{name}.{c}")]));
                    } else {
                        lineage.written.insert(id);
                    }
                }
                lineage.tables.insert(changes, columns);
            }
            lineage.models.insert(name.clone(), ml);
        }
        for (column, ups) in &lineage.upstream {
            for up in ups {
                lineage.downstream.entry(up.clone()).or_default().insert(column.clone());
            }
        }
        lineage
    }

    /// One model's lineage: its columns' direct upstream columns and its filters.
    pub fn model(&self, name: &str) -> Option<&ModelLineage> {
        self.models.get(name)
    }

    /// The columns `column` (`layer.table.column`) is computed from directly.
    pub fn upstream(&self, column: &str) -> impl Iterator<Item = &str> {
        self.upstream.get(column).into_iter().flatten().map(String::as_str)
    }

    /// The columns computed directly from `column`.
    pub fn downstream(&self, column: &str) -> impl Iterator<Item = &str> {
        self.downstream.get(column).into_iter().flatten().map(String::as_str)
    }

    /// Check a `layer.table.column` name; a usage error names the closest known ones.
    pub fn resolve(&self, spec: &str) -> Result<String> {
        let mut parts = spec.splitn(3, '.');
        let (layer, table, column) = (parts.next(), parts.next(), parts.next());
        let table_name = match table {
            Some(table) => format!("{}.{table}", layer.unwrap_or_default()),
            None => String::new(),
        };
        let Some(columns) = self.tables.get(&table_name) else {
            // `aum_cny` or `customer_360.aum_cny`: the columns it may be short for.
            if column.is_none() {
                let suffix = format!(".{spec}");
                let hits: Vec<String> = self
                    .tables
                    .iter()
                    .flat_map(|(t, cs)| cs.iter().map(move |c| format!("{t}.{c}")))
                    .filter(|full| full.ends_with(&suffix))
                    .map(|full| format!("'{full}'"))
                    .collect();
                let hint = match hits.len() {
                    0 => suggest(&table_name, self.tables.keys().map(String::as_str)),
                    n if n <= 5 => format!("; did you mean {}?", hits.join(" or ")),
                    n => format!("; did you mean {} (or {} more)?", hits[..5].join(" or "), n - 5),
                };
                return Err(Error::Usage(format!(
                    "'{spec}': name a column as layer.table.column, e.g. application.customer_360.aum_cny{hint}"
                )));
            }
            return Err(Error::Usage(format!(
                "unknown table '{table_name}'{}",
                suggest(&table_name, self.tables.keys().map(String::as_str))
            )));
        };
        let Some(column) = column else {
            let some: Vec<&str> = columns.iter().take(5).map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "'{spec}' is a table; name one of its columns as {spec}.column ({}{})",
                some.join(", "),
                if columns.len() > some.len() { ", …" } else { "" }
            )));
        };
        if !columns.iter().any(|c| c == column) {
            return Err(Error::Usage(format!(
                "{table_name} has no column '{column}'{}",
                suggest(column, columns.iter().map(String::as_str))
            )));
        }
        Ok(format!("{table_name}.{column}"))
    }

    /// The tree of columns `column` is computed from, down to source extract columns
    /// (upstream), or of the columns computed from it (downstream). A column appears
    /// once under each parent and never twice on one path.
    pub fn tree(&self, column: &str, direction: Direction) -> LineageTree {
        let mut path = Vec::new();
        self.grow(column, direction, &mut path)
    }

    fn grow(&self, column: &str, direction: Direction, path: &mut Vec<String>) -> LineageTree {
        let next = match direction {
            Direction::Upstream => self.upstream.get(column),
            Direction::Downstream => self.downstream.get(column),
        };
        path.push(column.to_string());
        let children = next
            .into_iter()
            .flatten()
            .filter(|c| !path.contains(c))
            .cloned()
            .collect::<Vec<_>>()
            .into_iter()
            .map(|c| self.grow(&c, direction, path))
            .collect();
        path.pop();
        let note = match direction {
            Direction::Downstream => None,
            Direction::Upstream if self.written.contains(column) => Some(Note::Written),
            Direction::Upstream if next.is_some_and(BTreeSet::is_empty) => Some(Note::NoColumn),
            Direction::Upstream => None,
        };
        LineageTree {
            column: column.to_string(),
            note,
            children,
        }
    }
}

/// Why an upstream tree ends at a column that is not a source extract column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Computed from no column: a literal, `$biz_date` or a row count.
    NoColumn,
    /// Written by the model's materialization, not by its SQL (`valid_from`, `row_hash`, …).
    Written,
}

impl Note {
    pub fn as_str(self) -> &'static str {
        match self {
            Note::NoColumn => "no upstream column: a constant, $biz_date or a row count",
            Note::Written => "written by the materialization",
        }
    }
}

/// A column and, below it, the columns it is computed from (or that are computed from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageTree {
    /// `layer.table.column`.
    pub column: String,
    pub note: Option<Note>,
    pub children: Vec<LineageTree>,
}

impl LineageTree {
    /// Indented text, one column a line:
    ///
    /// ```text
    /// application.c360.aum
    /// └── foundation.customer.balance
    ///     └── src.core_customer.balance
    /// ```
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.label());
        self.render_children("", &mut out);
        out
    }

    fn label(&self) -> String {
        match self.note {
            Some(note) => format!("{}  ({})", self.column, note.as_str()),
            None => self.column.clone(),
        }
    }

    fn render_children(&self, prefix: &str, out: &mut String) {
        for (i, child) in self.children.iter().enumerate() {
            let last = i + 1 == self.children.len();
            let _ = writeln!(out, "{prefix}{}{}", if last { "└── " } else { "├── " }, child.label());
            child.render_children(&format!("{prefix}{}", if last { "    " } else { "│   " }), out);
        }
    }

    /// `{"column": …, "upstream": [ … ]}` (or `"downstream"`), with `"note"` where there is one.
    pub fn to_json(&self, direction: Direction) -> Value {
        let mut node = json!({ "column": self.column });
        if let Some(note) = self.note {
            node["note"] = json!(note.as_str());
        }
        node[direction.as_str()] = Value::Array(self.children.iter().map(|c| c.to_json(direction)).collect());
        node
    }
}

/// `lakemart lineage COLUMN [--downstream] [--format text|json]`: the text to print.
pub fn render(compiled: &Compiled, spec: &str, direction: Direction, format: LineageFormat) -> Result<String> {
    let lineage = Lineage::of(compiled);
    let column = lineage.resolve(spec)?;
    let tree = lineage.tree(&column, direction);
    Ok(match format {
        LineageFormat::Text => tree.render_text(),
        LineageFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&tree.to_json(direction)).map_err(|e| Error::Internal(e.to_string()))?;
            text.push('\n');
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use deltalake::datafusion::datasource::empty::EmptyTable;

    /// Plan `sql` the way compile does (placeholder date, storable, analyzed) over
    /// src.core_customer(cust_id, cust_name, branch_id, biz_date),
    /// src.core_account(acct_no, cust_id, currency, balance, status, biz_date) and
    /// src.ref_fx_rate(currency, rate_to_cny, biz_date).
    fn plan(sql: &str) -> LogicalPlan {
        let ctx = crate::engine::session(1).unwrap();
        let table = |name: &str, cols: &[(&str, DataType)]| {
            let mut fields: Vec<Field> = cols.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect();
            fields.push(Field::new("biz_date", DataType::Date32, false));
            crate::engine::register(
                &ctx,
                Layer::Src,
                name,
                Arc::new(EmptyTable::new(Arc::new(Schema::new(fields)))),
            )
            .unwrap();
        };
        let money = DataType::Decimal128(18, 2);
        table(
            "core_customer",
            &[
                ("cust_id", DataType::Utf8),
                ("cust_name", DataType::Utf8),
                ("branch_id", DataType::Utf8),
            ],
        );
        table(
            "core_account",
            &[
                ("acct_no", DataType::Utf8),
                ("cust_id", DataType::Utf8),
                ("currency", DataType::Utf8),
                ("balance", money.clone()),
                ("status", DataType::Utf8),
            ],
        );
        table(
            "ref_fx_rate",
            &[
                ("currency", DataType::Utf8),
                ("rate_to_cny", DataType::Decimal128(18, 6)),
            ],
        );
        let state = ctx.state();
        futures::executor::block_on(async {
            let plan = state.create_logical_plan(sql).await.unwrap();
            let plan = crate::compile::storable(plan.with_param_values(crate::compile::biz_date_params(None)).unwrap())
                .unwrap();
            state
                .analyzer()
                .execute_and_check(plan, state.config_options(), |_, _| {})
                .unwrap()
        })
    }

    /// `name: a, b` per column, and `filters: …` last.
    fn lineage(sql: &str) -> String {
        let ml = model_lineage(&plan(sql));
        let mut out = String::new();
        for c in &ml.columns {
            let ups: Vec<&str> = c.upstream.iter().map(String::as_str).collect();
            let _ = writeln!(out, "{}: {}", c.name, ups.join(", "));
        }
        let filters: Vec<&str> = ml.filters.iter().map(String::as_str).collect();
        let _ = writeln!(out, "filters: {}", filters.join(", "));
        out
    }

    #[test]
    fn renames_expressions_and_literals() {
        assert_eq!(
            lineage(
                "SELECT c.cust_id AS customer_id, upper(cust_name) || branch_id AS label, \
                 'core' AS system, $biz_date AS biz_date \
                 FROM src.core_customer c WHERE c.biz_date = $biz_date"
            ),
            "customer_id: src.core_customer.cust_id\n\
             label: src.core_customer.branch_id, src.core_customer.cust_name\n\
             system: \n\
             biz_date: \n\
             filters: src.core_customer.biz_date\n"
        );
    }

    #[test]
    fn aggregates_group_keys_and_count_star() {
        assert_eq!(
            lineage(
                "SELECT cust_id, sum(balance) AS total, count(*) AS n, \
                 count(CASE WHEN status = 'A' THEN 1 END) AS active, \
                 sum(balance) FILTER (WHERE currency = 'USD') AS usd \
                 FROM src.core_account GROUP BY cust_id HAVING max(balance) > 0"
            ),
            "cust_id: src.core_account.cust_id\n\
             total: src.core_account.balance\n\
             n: \n\
             active: src.core_account.status\n\
             usd: src.core_account.balance, src.core_account.currency\n\
             filters: src.core_account.balance\n"
        );
    }

    #[test]
    fn join_keys_are_filters_not_values() {
        assert_eq!(
            lineage(
                "SELECT a.acct_no, CAST(a.balance * r.rate_to_cny AS DECIMAL(18,2)) AS balance_cny, c.cust_name \
                 FROM src.core_account a \
                 JOIN src.core_customer c ON c.cust_id = a.cust_id AND c.biz_date = a.biz_date \
                 LEFT JOIN src.ref_fx_rate r ON r.currency = a.currency AND r.rate_to_cny > 0"
            ),
            "acct_no: src.core_account.acct_no\n\
             balance_cny: src.core_account.balance, src.ref_fx_rate.rate_to_cny\n\
             cust_name: src.core_customer.cust_name\n\
             filters: src.core_account.biz_date, src.core_account.currency, src.core_account.cust_id, \
             src.core_customer.biz_date, src.core_customer.cust_id, src.ref_fx_rate.currency, \
             src.ref_fx_rate.rate_to_cny\n"
        );
    }

    #[test]
    fn ctes_star_unions_and_derived_tables() {
        assert_eq!(
            lineage(
                "WITH a AS (SELECT acct_no AS id, cust_id AS who FROM src.core_account), \
                      c AS (SELECT cust_name AS id, cust_id AS who FROM src.core_customer), \
                      u AS (SELECT * FROM a UNION ALL SELECT * FROM c) \
                 SELECT t.* FROM (SELECT who, id AS ident FROM u) t"
            ),
            "who: src.core_account.cust_id, src.core_customer.cust_id\n\
             ident: src.core_account.acct_no, src.core_customer.cust_name\n\
             filters: \n"
        );
    }

    #[test]
    fn window_functions_read_partition_and_order_columns() {
        assert_eq!(
            lineage(
                "SELECT acct_no, row_number() OVER (PARTITION BY cust_id ORDER BY balance DESC) AS rn, \
                 sum(balance) OVER (PARTITION BY cust_id) AS cust_total FROM src.core_account"
            ),
            "acct_no: src.core_account.acct_no\n\
             rn: src.core_account.balance, src.core_account.cust_id\n\
             cust_total: src.core_account.balance, src.core_account.cust_id\n\
             filters: \n"
        );
    }

    #[test]
    fn subqueries_give_values_and_filters() {
        assert_eq!(
            lineage(
                "SELECT c.cust_id, \
                 (SELECT max(a.balance) FROM src.core_account a WHERE a.cust_id = c.cust_id) AS top_balance, \
                 c.branch_id IN (SELECT currency FROM src.ref_fx_rate) AS odd \
                 FROM src.core_customer c \
                 WHERE EXISTS (SELECT 1 FROM src.core_account a WHERE a.cust_id = c.cust_id AND a.status = 'A')"
            ),
            "cust_id: src.core_customer.cust_id\n\
             top_balance: src.core_account.balance\n\
             odd: src.core_customer.branch_id, src.ref_fx_rate.currency\n\
             filters: src.core_account.cust_id, src.core_account.status, src.core_customer.cust_id\n"
        );
    }

    #[test]
    fn distinct_sort_and_limit_pass_columns_through() {
        assert_eq!(
            lineage("SELECT DISTINCT cust_id AS who FROM src.core_account ORDER BY who LIMIT 10"),
            "who: src.core_account.cust_id\nfilters: \n"
        );
    }

    #[test]
    fn trees_render_with_branches_and_notes() {
        // c360.aum ← customer.bal ← src.acct.balance
        //          ← customer.rate ← src.fx.rate
        // c360.n   (count(*))
        let mut lineage = Lineage::default();
        for (col, ups) in [
            (
                "application.c360.aum",
                vec!["foundation.customer.bal", "foundation.customer.rate"],
            ),
            ("application.c360.n", vec![]),
            ("foundation.customer.bal", vec!["src.core_acct.balance"]),
            ("foundation.customer.rate", vec!["src.ref_fx.rate"]),
        ] {
            lineage
                .upstream
                .insert(col.to_string(), ups.iter().map(|s| s.to_string()).collect());
            for up in ups {
                lineage
                    .downstream
                    .entry(up.to_string())
                    .or_default()
                    .insert(col.to_string());
            }
        }
        assert_eq!(
            lineage.tree("application.c360.aum", Direction::Upstream).render_text(),
            "application.c360.aum\n\
             ├── foundation.customer.bal\n\
             │   └── src.core_acct.balance\n\
             └── foundation.customer.rate\n\
             \u{20}   └── src.ref_fx.rate\n"
        );
        assert_eq!(
            lineage.tree("application.c360.n", Direction::Upstream).render_text(),
            "application.c360.n  (no upstream column: a constant, $biz_date or a row count)\n"
        );
        assert_eq!(
            lineage
                .tree("src.core_acct.balance", Direction::Downstream)
                .render_text(),
            "src.core_acct.balance\n\
             └── foundation.customer.bal\n\
             \u{20}   └── application.c360.aum\n"
        );
        assert_eq!(
            lineage
                .tree("src.ref_fx.rate", Direction::Downstream)
                .to_json(Direction::Downstream),
            json!({"column": "src.ref_fx.rate", "downstream": [
                {"column": "foundation.customer.rate", "downstream": [
                    {"column": "application.c360.aum", "downstream": []}
                ]}
            ]})
        );
    }
}
