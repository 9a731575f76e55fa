//! Compile: SQL → table references → [`Dag`] → one DataFusion logical plan per
//! model, checked against upstream schemas without reading any data; and the manifest.
//!
//! Every problem is collected, so one `lakemart compile` reports them all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::datafusion::common::{ParamValues, ScalarValue, TableReference};
use deltalake::datafusion::datasource::empty::EmptyTable;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::LogicalPlan;
use deltalake::datafusion::sql::parser::Statement;
use deltalake::datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use serde::Serialize;

use crate::dag::Dag;
use crate::engine;
use crate::error::{Diagnostic, Error, Result, df_message};
use crate::project::{Layer, Materialization, Project, SourceTable};

/// The project, checked: every model parsed, placed in the graph and planned.
#[derive(Debug)]
pub struct Compiled {
    pub project: Project,
    /// Models and source tables; edges point from a model to what it reads.
    pub dag: Dag,
    /// Models and sources in levels that may run in parallel.
    pub levels: Vec<Vec<String>>,
    pub models: BTreeMap<String, CompiledModel>,
    /// Staged source schemas by qualified name, `biz_date` included.
    pub source_schemas: BTreeMap<String, SchemaRef>,
}

/// One model after compilation.
#[derive(Debug, Clone)]
pub struct CompiledModel {
    pub name: String,
    /// The parsed SELECT, planned again at run time against real tables.
    pub statement: Statement,
    /// The tables it reads (`layer.table`).
    pub depends_on: BTreeSet<String>,
    /// The schema it produces.
    pub schema: SchemaRef,
    /// The analyzed plan against upstream schemas (placeholder business date);
    /// `crate::lineage` reads column lineage off it.
    pub plan: LogicalPlan,
}

/// A relationships test reads its target table right after the model is built,
/// so the target must be built before it: upstream of the model. Otherwise the
/// test would check against the target's previous business date, or fail on a
/// fresh lakehouse where the target does not exist yet.
fn relationship_is_upstream(
    spec: &crate::datatest::DataTestSpec,
    model: &str,
    dag: &Dag,
) -> std::result::Result<(), String> {
    let crate::datatest::TestKind::Relationships { to, .. } = &spec.kind else {
        return Ok(());
    };
    if to == model || dag.upstream(model).contains(to) {
        return Ok(());
    }
    Err(format!(
        "test '{}': {model} does not read {to}, directly or through what it reads, so the test could run \
         before {to} is built for the business date; declare it on a model downstream of both, or check \
         the relationship from the other side",
        spec.name()
    ))
}

/// A model's output schema and analyzed plan, or why it could not be planned.
type Planned = std::result::Result<(SchemaRef, LogicalPlan), DataFusionError>;

/// The business date used to plan models before any date is chosen.
fn planning_date() -> ScalarValue {
    ScalarValue::Date32(Some(0))
}

/// `$biz_date` as parameter values for a plan.
pub fn biz_date_params(days_since_epoch: Option<i32>) -> ParamValues {
    let value = days_since_epoch
        .map(|d| ScalarValue::Date32(Some(d)))
        .unwrap_or_else(planning_date);
    ParamValues::from(vec![("biz_date", value)])
}

/// Schema of a staged source table: its declared columns (nullable) and `biz_date`.
pub fn source_schema(table: &SourceTable) -> SchemaRef {
    let mut fields: Vec<Field> = table
        .columns
        .iter()
        .map(|c| Field::new(&c.name, c.ty.data_type(), true))
        .collect();
    fields.push(Field::new("biz_date", DataType::Date32, false));
    Arc::new(Schema::new(fields))
}

/// Compile the project. All problems come back together as [`Error::Compile`].
pub async fn compile(project: Project) -> Result<Compiled> {
    let mut diags = project.diagnostics.clone();
    let ctx = engine::session(1)?;
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;

    // 1. Parse and resolve references.
    let mut parsed: BTreeMap<String, (Statement, BTreeSet<String>)> = BTreeMap::new();
    let known: Vec<&str> = project.table_names().collect();
    for model in project.models.values() {
        let file = &model.sql_path;
        // Generated models (tags, scores) come as ASTs from their rule files.
        let generated = project.lowcode.as_ref().filter(|_| {
            [crate::lowcode::CUSTOMER_TAG, crate::lowcode::CUSTOMER_SCORE].contains(&model.name.as_str())
                && model.sql_path.extension().is_some_and(|e| e == "toml")
        });
        let parsed_sql = match generated {
            Some(lowcode) => match lowcode.statement(&model.name) {
                Some(statement) => Ok(statement),
                // A condition did not parse: already reported by the loader.
                None => continue,
            },
            None => state.sql_to_statement(&model.sql, &dialect),
        };
        let statement = match parsed_sql {
            Ok(s) => s,
            Err(e) => {
                let (mut line, column) = parser_location(&e);
                let message = df_message(&e);
                if line.is_none() && message.contains("found: EOF") {
                    line = Some(model.sql.trim_end().lines().count().max(1));
                }
                let message = if message.contains("only supports a single SQL statement") {
                    "a model is exactly one SELECT statement; this file holds several".to_string()
                } else {
                    format!("SQL syntax error: {}", strip_location(&message))
                };
                diags.push(
                    Diagnostic::new(file, "syntax", message)
                        .at(line, column)
                        .in_model(&model.name),
                );
                continue;
            }
        };
        if !matches!(&statement, Statement::Statement(s) if matches!(**s, SqlStatement::Query(_))) {
            diags.push(
                Diagnostic::new(
                    file,
                    "syntax",
                    "a model is one SELECT statement (DDL and DML are not allowed)",
                )
                .at(Some(1), None)
                .in_model(&model.name),
            );
            continue;
        }
        let refs = match state.resolve_table_references(&statement) {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::new(file, "syntax", df_message(&e)).in_model(&model.name));
                continue;
            }
        };
        let mut deps = BTreeSet::new();
        let mut ok = true;
        for r in refs {
            // Table functions (generate_series, range, …) are not tables.
            if let TableReference::Bare { table } = &r
                && state.table_functions().contains_key(table.as_ref())
            {
                continue;
            }
            match resolve_ref(&project, model.layer, &r, &known) {
                Ok(name) => {
                    deps.insert(name);
                }
                Err((kind, message)) => {
                    ok = false;
                    let (line, column) = find_in_sql(&model.sql, &r);
                    diags.push(
                        Diagnostic::new(file, kind, message)
                            .at(line, column)
                            .in_model(&model.name),
                    );
                }
            }
        }
        if ok {
            parsed.insert(model.name.clone(), (statement, deps));
        }
    }

    // 2. The graph, with sources as leaves.
    let mut dag = Dag::new();
    for name in project.sources.keys() {
        dag.add_node(name);
    }
    for (name, (_, deps)) in &parsed {
        dag.add_node(name);
        for d in deps {
            dag.add_edge(name, d);
        }
    }
    let levels = match dag.topological_levels() {
        Ok(levels) => levels,
        Err(cycles) => {
            for cycle in &cycles {
                let first = &cycle[0];
                let file = project
                    .models
                    .get(first)
                    .map(|m| m.sql_path.clone())
                    .unwrap_or_default();
                let (line, column) = match (project.models.get(first), cycle.get(1)) {
                    (Some(m), Some(next)) => find_in_sql(&m.sql, &TableReference::from(next.as_str())),
                    _ => (None, None),
                };
                diags.push(
                    Diagnostic::new(
                        file,
                        "cycle",
                        format!("dependency cycle: {} (each model reads the next)", cycle.join(" → ")),
                    )
                    .at(line, column)
                    .in_model(first),
                );
            }
            // Plan what is not on or behind a cycle, so its problems are reported too.
            let mut blocked: BTreeSet<String> = BTreeSet::new();
            for node in cycles.iter().flatten() {
                blocked.insert(node.clone());
                blocked.extend(dag.downstream(node));
            }
            let keep: BTreeSet<String> = dag
                .nodes()
                .filter(|n| !blocked.contains(*n))
                .map(str::to_string)
                .collect();
            let acyclic = dag.subgraph(&keep);
            acyclic.topological_levels().unwrap_or_default()
        }
    };

    // 3. Plan every model in order against its upstream schemas.
    let mut source_schemas = BTreeMap::new();
    for (name, table) in &project.sources {
        let schema = source_schema(table);
        engine::register(
            &ctx,
            Layer::Src,
            &table.staged_name(),
            Arc::new(EmptyTable::new(schema.clone())),
        )?;
        source_schemas.insert(name.clone(), schema);
    }
    let mut models = BTreeMap::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let threads = engine::cores();
    let mut planned: Vec<(String, Planned)> = Vec::new();
    for level in &levels {
        // Models of one level do not read each other: plan them on every core.
        let todo: Vec<(&String, &Statement)> = level
            .iter()
            .filter_map(|name| {
                let (statement, deps) = parsed.get(name)?;
                if deps.iter().any(|d| failed.contains(d)) {
                    failed.insert(name.clone());
                    return None;
                }
                Some((name, statement))
            })
            .collect();
        planned.clear();
        let chunk = todo.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = todo
                .chunks(chunk)
                .map(|part| {
                    let state = state.clone();
                    scope.spawn(move || {
                        part.iter()
                            .map(|(name, statement)| {
                                let result = futures::executor::block_on(plan_schema(&state, (*statement).clone()));
                                ((*name).clone(), result)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                match h.join() {
                    Ok(results) => planned.extend(results),
                    Err(_) => planned.push((
                        String::new(),
                        Err(DataFusionError::Internal("planner thread panicked".into())),
                    )),
                }
            }
        });
        for (name, result) in planned.drain(..) {
            plan_one(
                &ctx,
                &project,
                &parsed,
                &mut diags,
                &mut models,
                &mut failed,
                name,
                result,
            )?;
        }
    }

    // Data tests, once every model's schema is known (a relationship may point anywhere).
    for (name, compiled_model) in &models {
        let Some(meta) = &project.models[name].meta else {
            continue;
        };
        for (spec, line) in &meta.tests {
            let known = |t: &str| lookup_schema(&ctx, t);
            let checked = crate::datatest::check(spec, &compiled_model.schema, &known)
                .and_then(|()| relationship_is_upstream(spec, name, &dag));
            if let Err(message) = checked {
                diags.push(
                    Diagnostic::new(&meta.file, "test", message)
                        .at(Some(*line), None)
                        .in_model(name),
                );
            }
        }
    }

    if !diags.is_empty() {
        diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        diags.dedup();
        return Err(Error::Compile(diags));
    }
    Ok(Compiled {
        project,
        dag,
        levels,
        models,
        source_schemas,
    })
}

/// The schema of `layer.table` as registered in the compile session.
fn lookup_schema(ctx: &deltalake::datafusion::prelude::SessionContext, name: &str) -> Option<SchemaRef> {
    let (schema, table) = name.split_once('.')?;
    let provider = ctx.catalog("datafusion")?.schema(schema)?;
    let table = futures::executor::block_on(provider.table(table)).ok()??;
    Some(table.schema())
}

/// Record one model's planning result: register its table schema for the models
/// above it, check its metadata and materialization, or report the error.
#[allow(clippy::too_many_arguments)]
fn plan_one(
    ctx: &deltalake::datafusion::prelude::SessionContext,
    project: &Project,
    parsed: &BTreeMap<String, (Statement, BTreeSet<String>)>,
    diags: &mut Vec<Diagnostic>,
    models: &mut BTreeMap<String, CompiledModel>,
    failed: &mut BTreeSet<String>,
    name: String,
    result: Planned,
) -> Result<()> {
    let Some((statement, deps)) = parsed.get(&name) else {
        return Ok(());
    };
    let model = &project.models[&name];
    let name = &name;
    let mut statement = statement.clone();
    let mut result = result;
    // The 360 gains the tag and score columns: check the rules against the user's
    // query's own output, then plan the wrapped query in its place.
    if name == crate::lowcode::CUSTOMER_360
        && let Some(lowcode) = &project.lowcode
        && let Ok((output, _)) = &result
    {
        let state = ctx.state();
        let problems = lowcode.check(&state, output);
        let wrapped = lowcode.wrap_customer_360(&statement);
        match wrapped {
            Some(wrapped) if problems.is_empty() => {
                result = futures::executor::block_on(plan_schema(&state, wrapped.clone()));
                statement = wrapped;
            }
            _ => {
                diags.extend(problems);
                failed.insert(name.clone());
                return Ok(());
            }
        }
    }
    match result {
        Ok((output, plan)) => {
            let materialization = model.meta.as_ref().map(|m| m.materialization).unwrap_or_default();
            let stored = match &model.meta {
                Some(meta) => crate::materialize::stored_output(meta, &output),
                None => output.as_ref().clone(),
            };
            let schema = crate::materialize::table_schema(materialization, &stored);
            engine::register(
                ctx,
                model.layer,
                model.table(),
                Arc::new(EmptyTable::new(schema.clone())),
            )?;
            if materialization == Materialization::SnapshotDiff {
                let changes = crate::materialize::changes_schema(&output);
                let table = format!("{}_changes", model.table());
                engine::register(ctx, model.layer, &table, Arc::new(EmptyTable::new(changes)))?;
            }
            if let Some(meta) = &model.meta {
                for message in crate::materialize::check(meta, &output) {
                    diags.push(
                        Diagnostic::new(&meta.file, "materialization", message)
                            .at(Some(meta.line), None)
                            .in_model(name),
                    );
                }
            }
            if let Some(meta) = &model.meta {
                for column in &meta.columns {
                    if schema.field_with_name(&column.name).is_err() {
                        let produced: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                        diags.push(
                            Diagnostic::new(
                                &meta.file,
                                "metadata",
                                format!(
                                    "column '{}' is described but {name} does not produce it{}",
                                    column.name,
                                    match suggest(&column.name, produced.iter().copied()) {
                                        s if s.is_empty() => format!(" (it produces: {})", produced.join(", ")),
                                        s => s,
                                    }
                                ),
                            )
                            .at(Some(column.line), None)
                            .in_model(name),
                        );
                    }
                }
            }
            models.insert(
                name.clone(),
                CompiledModel {
                    name: name.clone(),
                    statement,
                    depends_on: deps.clone(),
                    schema,
                    plan,
                },
            );
        }
        Err(e) => {
            failed.insert(name.clone());
            let (line, column) = span_of(&e).unwrap_or((None, None));
            diags.push(
                Diagnostic::new(&model.sql_path, "plan", df_message(&e))
                    .at(line, column)
                    .in_model(name),
            );
        }
    }
    Ok(())
}

/// Plan a statement (with a placeholder business date) and return its output schema
/// and the analyzed plan. Runs the analyzer too, which is where type errors surface.
async fn plan_schema(state: &deltalake::datafusion::execution::SessionState, statement: Statement) -> Planned {
    let plan: LogicalPlan = state.statement_to_plan(statement).await?;
    let plan = storable(plan.with_param_values(biz_date_params(None))?)?;
    let plan = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    Ok((Arc::new(plan.schema().as_arrow().clone()), plan))
}

/// Delta has no unsigned integers: `ROW_NUMBER()` and friends return `UInt64`.
/// Such columns are cast to the signed type that holds them before writing. Nor
/// timestamps but in microseconds, in UTC or without a zone: `CAST(x AS TIMESTAMP)`
/// and `now()` give nanoseconds (and `now()` a `+00:00` zone), which the table
/// would store as microseconds in UTC. Cast so here, the model's columns are the
/// table's: an incremental model's next date does not see them retyped.
pub fn storable(plan: LogicalPlan) -> std::result::Result<LogicalPlan, DataFusionError> {
    use deltalake::arrow::datatypes::TimeUnit;
    use deltalake::datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast};
    let signed = |dt: &DataType| match dt {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        DataType::Timestamp(unit, zone)
            if *unit != TimeUnit::Microsecond || zone.as_deref().is_some_and(|z| z != "UTC") =>
        {
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                zone.as_ref().map(|_| "UTC".into()),
            ))
        }
        _ => None,
    };
    if !plan.schema().fields().iter().any(|f| signed(f.data_type()).is_some()) {
        return Ok(plan);
    }
    let exprs: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(deltalake::datafusion::common::Column::from((qualifier, field)));
            match signed(field.data_type()) {
                Some(dt) => cast(column, dt).alias(field.name()),
                None => column,
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(exprs)?.build()
}

/// Map a table reference in `layer`'s model to a known table name, or say why not.
fn resolve_ref(
    project: &Project,
    layer: Layer,
    r: &TableReference,
    known: &[&str],
) -> std::result::Result<String, (&'static str, String)> {
    let (schema, table) = match r {
        TableReference::Partial { schema, table } => (schema.as_ref(), table.as_ref()),
        TableReference::Bare { table } => {
            let hits: Vec<&str> = known
                .iter()
                .copied()
                .filter(|k| k.ends_with(&format!(".{table}")))
                .collect();
            let hint = if hits.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", hits.join(" or "))
            };
            return Err((
                "unknown-table",
                format!("table '{table}' must be named with its layer, as layer.table{hint}"),
            ));
        }
        TableReference::Full { .. } => {
            return Err(("unknown-table", format!("table '{r}': name tables as layer.table")));
        }
    };
    let name = format!("{schema}.{table}");
    let exists = match Layer::parse(schema) {
        Some(Layer::Src) => project.sources.contains_key(&name),
        Some(_) => project.models.contains_key(&name),
        None => false,
    };
    // `layer.model_changes`: the change set a snapshot_diff model keeps beside its table.
    if !exists
        && let Some(base) = name.strip_suffix("_changes")
        && project
            .models
            .get(base)
            .and_then(|m| m.meta.as_ref())
            .is_some_and(|m| m.materialization == Materialization::SnapshotDiff)
    {
        return resolve_ref(
            project,
            layer,
            &TableReference::partial(schema, &base[schema.len() + 1..]),
            known,
        );
    }
    if !exists {
        return Err((
            "unknown-table",
            format!("unknown table '{name}'{}", suggest(&name, known.iter().copied())),
        ));
    }
    let upstream_layer = Layer::parse(schema).unwrap_or(Layer::Src);
    if upstream_layer > layer {
        return Err((
            "layer",
            format!(
                "a {layer} model may not read {name} from the higher {upstream_layer} layer \
                 (models read their own layer or lower ones: src → foundation → aggregation → application)"
            ),
        ));
    }
    Ok(name)
}

/// "; did you mean 'x'?" for the closest candidates, or nothing.
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    use deltalake::datafusion::common::utils::datafusion_strsim::levenshtein;
    let mut scored: Vec<(usize, &str)> = candidates.map(|c| (levenshtein(name, c), c)).collect();
    scored.sort();
    let limit = (name.len() / 3).max(2);
    let best: Vec<String> = scored
        .iter()
        .filter(|(d, _)| *d <= limit)
        .take(3)
        .map(|(_, c)| format!("'{c}'"))
        .collect();
    if best.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", best.join(" or "))
    }
}

/// Where sqlparser said the error is: "… at Line: 3, Column: 7".
fn parser_location(e: &DataFusionError) -> (Option<usize>, Option<usize>) {
    let text = e.to_string();
    let Some(pos) = text.rfind("Line: ") else {
        return (None, None);
    };
    let rest = &text[pos + 6..];
    let line = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|s| s.parse().ok());
    let column = rest
        .find("Column: ")
        .and_then(|p| rest[p + 8..].split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok());
    (line, column)
}

fn strip_location(message: &str) -> String {
    let m = match message.rfind(" at Line: ") {
        Some(pos) => &message[..pos],
        None => message,
    };
    m.trim_start_matches("SQL error: ")
        .trim_start_matches("ParserError(\"")
        .trim_end_matches("\")")
        .trim_end_matches(')')
        .to_string()
}

/// The location DataFusion's diagnostics attach to a planning error.
fn span_of(e: &DataFusionError) -> Option<(Option<usize>, Option<usize>)> {
    let span = e.iter().find_map(|e| e.diagnostic()).and_then(|d| d.span)?;
    (span.start.line > 0).then_some((Some(span.start.line as usize), Some(span.start.column as usize)))
}

/// First line mentioning a table reference (case-insensitive), for errors
/// sqlparser does not locate.
fn find_in_sql(sql: &str, r: &TableReference) -> (Option<usize>, Option<usize>) {
    let lower = sql.to_lowercase();
    let full = r.to_string().to_lowercase();
    let needle = if lower.contains(&full) {
        full
    } else {
        r.table().to_lowercase()
    };
    match lower.find(&needle) {
        Some(offset) => {
            let line = crate::project::line_of(sql, offset);
            let line_start = sql[..offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
            (Some(line), Some(sql[line_start..offset].chars().count() + 1))
        }
        None => (None, None),
    }
}

// ---------------------------------------------------------------- manifest

/// `lakemart compile --format json`: the contract other tools read.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub project: String,
    pub models: Vec<ManifestModel>,
    pub sources: Vec<ManifestSource>,
}

#[derive(Debug, Serialize)]
pub struct ManifestModel {
    pub name: String,
    pub layer: Layer,
    pub subject: String,
    pub materialization: Materialization,
    pub description: String,
    pub sql_path: String,
    /// The SELECT lakemart plans, as SQL text: the model file's statement, or
    /// the one lakemart generates or wraps (customer_360's tag and score
    /// columns, `customer_tag`, `customer_score`). `$biz_date` stays a placeholder.
    pub compiled_sql: String,
    pub depends_on: Vec<String>,
    /// The model's own DataFusion settings (`[models.settings]`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    pub columns: Vec<ManifestColumn>,
    /// Upstream columns read by WHERE, HAVING, JOIN and subquery conditions (`crate::lineage`).
    pub filtered_by: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ManifestSource {
    pub name: String,
    pub system: String,
    pub table: String,
    pub description: String,
    pub file: String,
    pub primary_key: Vec<String>,
    pub columns: Vec<ManifestColumn>,
}

#[derive(Debug, Serialize)]
pub struct ManifestColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
    pub description: String,
    pub pii: bool,
    /// Model columns only: the upstream columns (`layer.table.column`) the value is computed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lineage: Option<Vec<String>>,
}

impl Compiled {
    /// The manifest of the compiled project.
    pub fn manifest(&self) -> Manifest {
        let models = self
            .models
            .values()
            .map(|m| {
                let model = &self.project.models[&m.name];
                let docs: HashMap<&str, (&str, bool)> = model
                    .meta
                    .iter()
                    .flat_map(|meta| meta.columns.iter())
                    .map(|c| (c.name.as_str(), (c.description.as_str(), c.pii)))
                    .collect();
                let lineage = crate::lineage::model_lineage(&m.plan);
                ManifestModel {
                    name: m.name.clone(),
                    layer: model.layer,
                    subject: model.subject.clone(),
                    materialization: model.meta.as_ref().map(|x| x.materialization).unwrap_or_default(),
                    description: model.meta.as_ref().map(|x| x.description.clone()).unwrap_or_default(),
                    sql_path: model.sql_path.display().to_string(),
                    compiled_sql: m.statement.to_string(),
                    depends_on: m.depends_on.iter().cloned().collect(),
                    settings: model.meta.as_ref().map(|x| x.settings.clone()).unwrap_or_default(),
                    columns: m
                        .schema
                        .fields()
                        .iter()
                        .map(|f| {
                            let (description, pii) = docs.get(f.name().as_str()).copied().unwrap_or(("", false));
                            ManifestColumn {
                                name: f.name().clone(),
                                data_type: type_name(f.data_type()),
                                nullable: f.is_nullable(),
                                description: description.to_string(),
                                pii,
                                lineage: Some(lineage.upstream_of(f.name()).map(str::to_string).collect()),
                            }
                        })
                        .collect(),
                    filtered_by: lineage.filters.iter().cloned().collect(),
                }
            })
            .collect();
        let sources = self
            .project
            .sources
            .iter()
            .map(|(name, t)| ManifestSource {
                name: name.clone(),
                system: t.system.clone(),
                table: t.table.clone(),
                description: t.description.clone(),
                file: t.file.clone(),
                primary_key: t.primary_key.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| ManifestColumn {
                        name: c.name.clone(),
                        data_type: type_name(&c.ty.data_type()),
                        nullable: true,
                        description: c.description.clone(),
                        pii: c.pii,
                        lineage: None,
                    })
                    .collect(),
            })
            .collect();
        Manifest {
            project: self.project.name.clone(),
            models,
            sources,
        }
    }

    /// Models only, in an order where every model comes after what it reads.
    pub fn model_order(&self) -> Vec<String> {
        self.levels
            .iter()
            .flatten()
            .filter(|n| self.models.contains_key(*n))
            .cloned()
            .collect()
    }
}

/// SQL-style type names for people: `decimal(18,2)`, `date`, `string`.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(tz)) => format!("timestamp({tz})"),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_close_names() {
        let names = ["foundation.customer", "foundation.agreement", "src.core_customer"];
        assert_eq!(
            suggest("foundation.custmer", names.into_iter()),
            "; did you mean 'foundation.customer'?"
        );
        assert_eq!(suggest("zzz", names.into_iter()), "");
    }
}
