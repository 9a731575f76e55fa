//! The tables `lakemart serve` answers from and the DataFusion sessions that
//! expose them: every table of the project and `_lakemart.*`, brought to its
//! latest Delta version (or its version as of a business date) right before a
//! statement that names it is planned and again before it runs.
//!
//! Each point in time has two sessions: one with pii columns in clear, one where
//! every table with pii columns is replaced by its masked view ([`super::mask`]).
//! Tables are registered as [`LiveTable`]s whose snapshot is swapped in place
//! when a new version keeps the schema (so prepared statements read new data),
//! and replaced when the schema changes (so a plan never meets a schema it was
//! not planned for).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion_postgres::DfSessionService;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use deltalake::DeltaTable;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::catalog::{Session, TableProvider};
use deltalake::datafusion::common::tree_node::TreeNodeRecursion;
use deltalake::datafusion::common::{Result as DfResult, Statistics, TableReference};
use deltalake::datafusion::datasource::source_as_provider;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown, TableType};
use deltalake::datafusion::physical_plan::ExecutionPlan;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::datafusion::sql::parser::Statement as DfStatement;
use deltalake::datafusion::sql::sqlparser::ast::Statement;
use deltalake::logstore::object_store::ObjectStoreExt;
use tokio::sync::Mutex;

use super::mask;
use crate::error::{Error, Result};
use crate::project::{Layer, Materialization, Project};
use crate::store::{Lakehouse, SYSTEM};
use crate::{engine, history};

/// One DataFusion session of the server and the pgwire service over it.
pub(crate) struct ServeSession {
    pub ctx: Arc<SessionContext>,
    pub service: Arc<DfSessionService>,
}

impl ServeSession {
    fn new() -> Result<ServeSession> {
        let ctx = engine::session(engine::cores())?;
        {
            let state = ctx.state_ref();
            let mut state = state.write();
            let options = state.config_mut().options_mut();
            options.catalog.information_schema = true;
            // Point lookups: filter rows while decoding, so only matching rows are materialised.
            options.execution.parquet.pushdown_filters = true;
        }
        setup_pg_catalog(&ctx, "datafusion", EmptyContextProvider).map_err(|e| Error::DataFusion(*e))?;
        for udf in mask::udfs() {
            ctx.register_udf(udf);
        }
        let ctx = Arc::new(ctx);
        let service = Arc::new(DfSessionService::new(ctx.clone()));
        Ok(ServeSession { ctx, service })
    }

    fn register(&self, schema: &str, table: &str, provider: Arc<dyn TableProvider>) -> Result<()> {
        let schema = self.schema(schema)?;
        schema.deregister_table(table)?;
        schema.register_table(table.to_string(), provider)?;
        Ok(())
    }

    fn deregister(&self, schema: &str, table: &str) -> Result<()> {
        self.schema(schema)?.deregister_table(table)?;
        Ok(())
    }

    fn schema(&self, name: &str) -> Result<Arc<dyn deltalake::datafusion::catalog::SchemaProvider>> {
        self.ctx
            .catalog("datafusion")
            .and_then(|c| c.schema(name))
            .ok_or_else(|| Error::Internal(format!("schema {name} missing from the serve session")))
    }
}

/// The two sessions of one point in time.
struct Sessions {
    clear: Arc<ServeSession>,
    masked: Arc<ServeSession>,
}

impl Sessions {
    fn new() -> Result<Sessions> {
        Ok(Sessions {
            clear: Arc::new(ServeSession::new()?),
            masked: Arc::new(ServeSession::new()?),
        })
    }

    fn get(&self, pii: bool) -> Arc<ServeSession> {
        if pii { self.clear.clone() } else { self.masked.clone() }
    }

    /// Put `slot`'s table into both sessions: as is, and masked.
    fn register(&self, entry: &Entry, live: Arc<LiveTable>) -> Result<()> {
        let name = TableReference::partial(entry.schema.as_str(), entry.table.as_str());
        let masked = mask::masked_table(name, live.clone(), &entry.pii)?;
        self.clear.register(&entry.schema, &entry.table, live)?;
        self.masked.register(&entry.schema, &entry.table, masked)
    }

    fn deregister(&self, entry: &Entry) -> Result<()> {
        self.clear.deregister(&entry.schema, &entry.table)?;
        self.masked.deregister(&entry.schema, &entry.table)
    }
}

/// One table the server may serve.
struct Entry {
    /// `src`, `foundation`, …, or `_lakemart`.
    schema: String,
    table: String,
    /// `None` for lakemart's own tables, which time travel leaves current.
    layer: Option<Layer>,
    /// Columns to mask for users without the pii role.
    pii: BTreeSet<String>,
    latest: Mutex<Latest>,
}

#[derive(Default)]
struct Latest {
    /// The table at its latest version, once it exists.
    table: Option<DeltaTable>,
    live: Option<Arc<LiveTable>>,
}

/// The sessions of one business date and the version each table was resolved at.
struct AsOf {
    date: NaiveDate,
    sessions: Sessions,
    slots: Mutex<BTreeMap<(String, String), AsOfSlot>>,
}

/// One table in the sessions of a business date.
#[derive(Default)]
struct AsOfSlot {
    /// The latest version when the as-of version was last resolved.
    seen: Option<u64>,
    /// The table registered for that date, if it existed then.
    live: Option<Arc<LiveTable>>,
}

/// How many business dates keep their time-travel sessions at once.
const AS_OF_DATES_KEPT: usize = 16;

/// Every table of the project, and the sessions that serve them.
pub(crate) struct Catalog {
    lakehouse: Lakehouse,
    entries: BTreeMap<(String, String), Arc<Entry>>,
    latest: Sessions,
    as_of: Mutex<BTreeMap<NaiveDate, Arc<AsOf>>>,
}

impl Catalog {
    /// Every table `lakemart query` would register (sources, models, the change tables
    /// of snapshot_diff models, `_lakemart.*`), with the pii columns of each, opened at
    /// their latest versions.
    pub(crate) async fn open(project: &Project, lakehouse: &Lakehouse) -> Result<Catalog> {
        let mut entries = BTreeMap::new();
        let mut add = |schema: &str, table: String, layer: Option<Layer>, pii: BTreeSet<String>| {
            let entry = Entry {
                schema: schema.to_string(),
                table: table.clone(),
                layer,
                pii,
                latest: Mutex::new(Latest::default()),
            };
            entries.insert((schema.to_string(), table), Arc::new(entry));
        };
        for source in project.sources.values() {
            let pii = source
                .columns
                .iter()
                .filter(|c| c.pii)
                .map(|c| c.name.clone())
                .collect();
            add(Layer::Src.as_str(), source.staged_name(), Some(Layer::Src), pii);
        }
        for model in project.models.values() {
            let pii: BTreeSet<String> = model
                .meta
                .iter()
                .flat_map(|m| m.columns.iter().filter(|c| c.pii).map(|c| c.name.clone()))
                .collect();
            let layer = model.layer;
            if model
                .meta
                .as_ref()
                .is_some_and(|m| m.materialization == Materialization::SnapshotDiff)
            {
                add(
                    layer.as_str(),
                    format!("{}_changes", model.table()),
                    Some(layer),
                    pii.clone(),
                );
            }
            add(layer.as_str(), model.table().to_string(), Some(layer), pii);
        }
        for name in ["run", "model_run", "test_result"] {
            add(SYSTEM, name.to_string(), None, BTreeSet::new());
        }
        let catalog = Catalog {
            lakehouse: lakehouse.clone(),
            entries,
            latest: Sessions::new()?,
            as_of: Mutex::new(BTreeMap::new()),
        };
        catalog
            .refresh(catalog.entries.values().cloned().collect(), None)
            .await?;
        Ok(catalog)
    }

    /// How many tables exist now.
    pub(crate) async fn built_tables(&self) -> usize {
        let mut n = 0;
        for e in self.entries.values() {
            n += usize::from(e.latest.lock().await.table.is_some());
        }
        n
    }

    /// The session a statement runs in, with the tables it names brought up to date
    /// (all of them when it reads the catalog: `pg_catalog`, `information_schema`, SHOW).
    pub(crate) async fn session_for(
        &self,
        statement: &Statement,
        pii: bool,
        as_of: Option<NaiveDate>,
    ) -> Result<Arc<ServeSession>> {
        let (entries, named) = self.named_by(statement);
        let as_of = match as_of {
            Some(date) => Some(self.as_of_sessions(date).await?),
            None => None,
        };
        self.refresh(entries.clone(), as_of.as_deref()).await?;
        if let (Some(a), true) = (&as_of, named) {
            // Say why a table is missing rather than DataFusion's "not found".
            let slots = a.slots.lock().await;
            for e in &entries {
                let absent = slots
                    .get(&(e.schema.clone(), e.table.clone()))
                    .is_some_and(|slot| slot.live.is_none());
                if absent {
                    return Err(Error::Usage(format!(
                        "{}.{} did not exist yet for business date {} (lakemart.as_of_date): it was first built \
                         for a later date",
                        e.schema, e.table, a.date
                    )));
                }
            }
        }
        Ok(match &as_of {
            Some(a) => a.sessions.get(pii),
            None => self.latest.get(pii),
        })
    }

    /// The tables `statement` reads, and `true`; every table and `false` when it
    /// reads anything else too (the catalog, an unknown name).
    fn named_by(&self, statement: &Statement) -> (Vec<Arc<Entry>>, bool) {
        let all = || (self.entries.values().cloned().collect(), false);
        let reads_tables = matches!(
            statement,
            Statement::Query(_) | Statement::Explain { .. } | Statement::Declare { .. }
        );
        if !reads_tables {
            return match statement {
                Statement::ExplainTable { .. }
                | Statement::ShowTables { .. }
                | Statement::ShowColumns { .. }
                | Statement::ShowSchemas { .. } => all(),
                _ => (Vec::new(), false),
            };
        }
        let Ok((refs, _ctes)) = deltalake::datafusion::sql::resolve::resolve_table_references(
            &DfStatement::Statement(Box::new(statement.clone())),
            false,
        ) else {
            return all();
        };
        let mut named = Vec::new();
        for r in refs {
            let key = match &r {
                TableReference::Partial { schema, table } => (schema.to_string(), table.to_string()),
                TableReference::Full { schema, table, .. } => (schema.to_string(), table.to_string()),
                TableReference::Bare { .. } => return all(),
            };
            match self.entries.get(&key) {
                Some(e) => named.push(e.clone()),
                None => return all(),
            }
        }
        (named, true)
    }

    async fn as_of_sessions(&self, date: NaiveDate) -> Result<Arc<AsOf>> {
        let mut as_of = self.as_of.lock().await;
        if let Some(a) = as_of.get(&date) {
            return Ok(a.clone());
        }
        let a = Arc::new(AsOf {
            date,
            sessions: Sessions::new()?,
            slots: Mutex::new(BTreeMap::new()),
        });
        // Keep a bounded number of dates: statements running on a dropped one finish,
        // and the next statement that asks for it builds it again.
        if as_of.len() >= AS_OF_DATES_KEPT {
            as_of.pop_first();
        }
        as_of.insert(date, a.clone());
        Ok(a)
    }

    async fn refresh(&self, entries: Vec<Arc<Entry>>, as_of: Option<&AsOf>) -> Result<()> {
        futures::future::try_join_all(entries.iter().map(|e| self.refresh_latest(e))).await?;
        if let Some(as_of) = as_of {
            for e in &entries {
                self.refresh_as_of(e, as_of).await?;
            }
        }
        Ok(())
    }

    /// Bring `entry` to its latest version: open it once it exists, then follow new commits.
    async fn refresh_latest(&self, entry: &Entry) -> Result<()> {
        let mut guard = entry.latest.lock().await;
        let latest = &mut *guard;
        match latest.table.as_mut() {
            None => match self.open_latest(entry).await? {
                Some(t) => latest.table = Some(t),
                None => return Ok(()),
            },
            Some(t) => {
                if !has_newer_commit(t).await? {
                    return Ok(());
                }
                t.update_incremental(None).await?;
            }
        }
        let Some(table) = &latest.table else {
            return Ok(());
        };
        let provider = table.table_provider().await?;
        install(&mut latest.live, Some(provider), &self.latest, entry, None)
    }

    async fn open_latest(&self, entry: &Entry) -> Result<Option<DeltaTable>> {
        match entry.layer {
            Some(layer) => self.lakehouse.open(layer, &entry.table).await,
            None => self.lakehouse.open_system(&entry.table).await,
        }
    }

    /// Bring `entry`'s table in `as_of`'s sessions to its version for that business
    /// date, whenever the latest version has moved since it was last resolved.
    async fn refresh_as_of(&self, entry: &Entry, as_of: &AsOf) -> Result<()> {
        let latest = entry.latest.lock().await.table.clone();
        let Some(mut table) = latest else {
            return Ok(());
        };
        let latest_version = table.version();
        let mut slots = as_of.slots.lock().await;
        let slot = slots.entry((entry.schema.clone(), entry.table.clone())).or_default();
        if slot.seen.is_some() && slot.seen == latest_version {
            return Ok(());
        }
        let version = match entry.layer {
            // Run records are always current.
            None => latest_version,
            Some(_) => history::version_as_of(&table, as_of.date).await?,
        };
        let provider = match version {
            None => None,
            Some(v) => {
                if latest_version != Some(v) {
                    table.load_version(v).await?;
                }
                Some(table.table_provider().await?)
            }
        };
        install(&mut slot.live, provider, &as_of.sessions, entry, Some(as_of.date))?;
        slot.seen = latest_version;
        Ok(())
    }
}

/// Whether every table `plan` reads was registered for the point in time `as_of`
/// (a statement prepared before `SET lakemart.as_of_date` must be planned again).
pub(crate) fn planned_for(plan: &LogicalPlan, as_of: Option<NaiveDate>) -> bool {
    let mut matches = true;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(live) = (provider.as_ref() as &dyn Any).downcast_ref::<LiveTable>()
            && live.as_of != as_of
        {
            matches = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    matches
}

/// Whether a commit after the loaded version exists: one HEAD on the next log file.
async fn has_newer_commit(table: &DeltaTable) -> Result<bool> {
    let next = table.version().map_or(0, |v| v + 1);
    let log_store = table.log_store();
    let path = log_store.log_path().clone().join(format!("{next:020}.json"));
    match log_store.object_store(None).head(&path).await {
        Ok(_) => Ok(true),
        Err(deltalake::ObjectStoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(Error::Delta(e.into())),
    }
}

/// Serve `provider` for `entry` in `sessions` through `slot`: swapped into the
/// current [`LiveTable`] when the schema is unchanged, else as a new one; `None`
/// takes the table away.
fn install(
    slot: &mut Option<Arc<LiveTable>>,
    provider: Option<Arc<dyn TableProvider>>,
    sessions: &Sessions,
    entry: &Entry,
    as_of: Option<NaiveDate>,
) -> Result<()> {
    match provider {
        None => {
            if slot.take().is_some() {
                sessions.deregister(entry)?;
            }
        }
        Some(p) => match slot {
            Some(live) if live.schema.fields() == p.schema().fields() => live.set(p),
            _ => {
                let live = Arc::new(LiveTable::new(p, as_of));
                sessions.register(entry, live.clone())?;
                *slot = Some(live);
            }
        },
    }
    Ok(())
}

/// A table whose snapshot can be replaced by a newer one of the same schema while
/// plans that name it are alive: they read whichever snapshot is current when they run.
#[derive(Debug)]
pub(crate) struct LiveTable {
    /// The business date of the sessions it is registered in; `None`: the latest version.
    as_of: Option<NaiveDate>,
    schema: SchemaRef,
    current: RwLock<Arc<dyn TableProvider>>,
}

impl LiveTable {
    fn new(provider: Arc<dyn TableProvider>, as_of: Option<NaiveDate>) -> LiveTable {
        LiveTable {
            as_of,
            schema: provider.schema(),
            current: RwLock::new(provider),
        }
    }

    fn set(&self, provider: Arc<dyn TableProvider>) {
        if let Ok(mut current) = self.current.write() {
            *current = provider;
        }
    }

    fn current(&self) -> DfResult<Arc<dyn TableProvider>> {
        let current = self
            .current
            .read()
            .map_err(|_| DataFusionError::Internal("live table lock poisoned".into()))?
            .clone();
        // Never hand a plan a snapshot of another shape than it was planned for.
        if current.schema().fields() != self.schema.fields() {
            return Err(DataFusionError::Execution(
                "the table changed its columns since this statement was prepared; prepare it again".into(),
            ));
        }
        Ok(current)
    }
}

#[async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.current()?.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.current()?.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.current().ok()?.statistics()
    }
}
