//! The lakehouse: where each table lives, opening tables, and the Delta
//! commits lakemart makes (full overwrite, one-partition replace), each
//! tagged with run id, business date and model.
//!
//! Everything is a URL: `file://` by default, any object store deltalake knows.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::execution::SessionState;
use deltalake::datafusion::logical_expr::{LogicalPlan, col, lit};
use deltalake::kernel::transaction::CommitProperties;
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::TryStreamExt;
use url::Url;

use crate::error::{Error, Result};
use crate::project::Layer;

/// The root of the lakehouse and the layout below it:
/// `<root>/<layer>/<table>` for `src`, `foundation`, `aggregation`, `application`.
#[derive(Debug, Clone)]
pub struct Lakehouse {
    root: Url,
}

/// Who wrote a commit: stored in every commit's info as `lakemart.*`.
#[derive(Debug, Clone)]
pub struct CommitTag {
    pub run_id: String,
    pub biz_date: NaiveDate,
    pub model: String,
}

/// What a write committed.
#[derive(Debug, Clone, Default)]
pub struct WriteOutcome {
    /// The table's Delta version after the commit.
    pub version: u64,
    /// Rows written by this commit.
    pub rows: u64,
    /// Something the operator should know, e.g. that nothing was written and why.
    pub note: Option<String>,
}

impl Lakehouse {
    /// A lakehouse at `location`: a URL (`s3://…`, `file://…`) or a path,
    /// relative to `base` when it is not absolute.
    pub fn new(location: &str, base: &Path) -> Result<Lakehouse> {
        let mut root = if location.contains("://") {
            Url::parse(location).map_err(|e| Error::Usage(format!("lakehouse '{location}' is not a valid URL: {e}")))?
        } else {
            let path = base.join(location);
            let path = std::path::absolute(&path).map_err(|e| Error::io(&path, e))?;
            Url::from_directory_path(&path)
                .map_err(|_| Error::Usage(format!("lakehouse path {} cannot be made a URL", path.display())))?
        };
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        Ok(Lakehouse { root })
    }

    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Where `layer.table` lives.
    pub fn table_url(&self, layer: Layer, table: &str) -> Result<Url> {
        self.root
            .join(&format!("{layer}/{table}/"))
            .map_err(|e| Error::Internal(format!("table url for {layer}.{table}: {e}")))
    }

    /// Open `layer.table` at its latest version, or `None` when it was never written.
    pub async fn open(&self, layer: Layer, table: &str) -> Result<Option<DeltaTable>> {
        open_url(self.table_url(layer, table)?).await
    }

    /// Where lakemart's own table `_lakemart.<name>` lives (run records).
    pub fn system_url(&self, name: &str) -> Result<Url> {
        self.root
            .join(&format!("{SYSTEM}/{name}/"))
            .map_err(|e| Error::Internal(format!("table url for {SYSTEM}.{name}: {e}")))
    }

    /// Open `_lakemart.<name>`, or `None` when it was never written.
    pub async fn open_system(&self, name: &str) -> Result<Option<DeltaTable>> {
        open_url(self.system_url(name)?).await
    }

    /// Append a batch to `_lakemart.<name>` (created on first use).
    pub async fn append_system(&self, name: &str, batch: deltalake::arrow::array::RecordBatch) -> Result<()> {
        let table = open_or_create(self.system_url(name)?).await?;
        table.write(vec![batch]).with_save_mode(SaveMode::Append).await?;
        Ok(())
    }

    /// An object store rooted at the lakehouse, for files that are not tables (the lock).
    fn object_store(&self) -> Result<deltalake::logstore::ObjectStoreRef> {
        Ok(DeltaTableBuilder::from_url(self.root.clone())?.build()?.object_store())
    }

    /// Take the lakehouse lock for a run. `Ok(Err(holder))` when another live run holds it;
    /// a lock whose holder is gone (dead process on this host, or no heartbeat for
    /// [`LOCK_STALE_AFTER_SECS`]) is taken over.
    pub async fn lock(&self, me: &LockInfo) -> Result<std::result::Result<(), LockInfo>> {
        use deltalake::logstore::object_store::{PutMode, PutOptions, PutPayload};
        let store = self.object_store()?;
        let path = deltalake::Path::from(LOCK_PATH);
        let body = serde_json::to_vec(me).map_err(|e| Error::Internal(e.to_string()))?;
        for _ in 0..2 {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match store.put_opts(&path, PutPayload::from(body.clone()), opts).await {
                Ok(_) => return Ok(Ok(())),
                Err(deltalake::ObjectStoreError::AlreadyExists { .. }) => {
                    let holder: Option<LockInfo> = match store.get(&path).await {
                        Ok(got) => got.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()),
                        Err(deltalake::ObjectStoreError::NotFound { .. }) => continue,
                        Err(e) => return Err(Error::Delta(e.into())),
                    };
                    match holder {
                        Some(h) if !h.is_stale() => return Ok(Err(h)),
                        _ => {
                            tracing::warn!("taking over a stale lakehouse lock");
                            match store.delete(&path).await {
                                Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => {}
                                Err(e) => return Err(Error::Delta(e.into())),
                            }
                        }
                    }
                }
                Err(e) => return Err(Error::Delta(e.into())),
            }
        }
        Err(Error::Internal(
            "could not take the lakehouse lock after removing a stale one".into(),
        ))
    }

    /// Take the lock for this process, or fail with [`Error::Locked`] naming the holder.
    pub async fn lock_for_this_process(&self) -> Result<LockInfo> {
        let me = LockInfo {
            run_id: crate::run::new_run_id(),
            host: crate::ledger::host(),
            pid: std::process::id(),
            started_at: chrono::Utc::now().to_rfc3339(),
            heartbeat: chrono::Utc::now().timestamp(),
        };
        match self.lock(&me).await? {
            Ok(()) => Ok(me),
            Err(holder) => Err(Error::Locked {
                run_id: holder.run_id,
                host: holder.host,
                pid: holder.pid,
                started_at: holder.started_at,
            }),
        }
    }

    /// Refresh the lock's heartbeat (only while it is still ours).
    pub async fn heartbeat(&self, me: &LockInfo) -> Result<()> {
        use deltalake::logstore::object_store::PutPayload;
        let store = self.object_store()?;
        let path = deltalake::Path::from(LOCK_PATH);
        let current: Option<LockInfo> = match store.get(&path).await {
            Ok(got) => got.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()),
            Err(_) => None,
        };
        if current.is_some_and(|c| c.run_id == me.run_id) {
            let mut fresh = me.clone();
            fresh.heartbeat = chrono::Utc::now().timestamp();
            let body = serde_json::to_vec(&fresh).map_err(|e| Error::Internal(e.to_string()))?;
            store
                .put(&path, PutPayload::from(body))
                .await
                .map_err(|e| Error::Delta(e.into()))?;
        }
        Ok(())
    }

    /// Release the lock if it is ours.
    pub async fn unlock(&self, me: &LockInfo) -> Result<()> {
        let store = self.object_store()?;
        let path = deltalake::Path::from(LOCK_PATH);
        if let Ok(got) = store.get(&path).await
            && let Ok(bytes) = got.bytes().await
            && serde_json::from_slice::<LockInfo>(&bytes).is_ok_and(|c| c.run_id == me.run_id)
        {
            let _ = store.delete(&path).await;
        }
        Ok(())
    }
}

/// Folder of lakemart's own tables and files under the lakehouse root.
pub const SYSTEM: &str = "_lakemart";
const LOCK_PATH: &str = "_lakemart/lock.json";
/// A lock whose heartbeat is older than this is stale.
pub const LOCK_STALE_AFTER_SECS: i64 = 300;

/// Who holds the lakehouse lock.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LockInfo {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Unix seconds of the last heartbeat.
    pub heartbeat: i64,
}

impl LockInfo {
    /// Dead process on this host, or silent for too long.
    fn is_stale(&self) -> bool {
        let same_host = self.host == crate::ledger::host();
        if same_host && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            return true;
        }
        chrono::Utc::now().timestamp() - self.heartbeat > LOCK_STALE_AFTER_SECS
    }
}

async fn open_url(url: Url) -> Result<Option<DeltaTable>> {
    if let Ok(path) = url.to_file_path()
        && !path.join("_delta_log").is_dir()
    {
        return Ok(None);
    }
    match deltalake::open_table(url).await {
        Ok(t) => Ok(Some(t)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Lakehouse {
    /// A handle for writing `layer.table`, whether or not it exists yet.
    pub async fn writable(&self, layer: Layer, table: &str) -> Result<DeltaTable> {
        open_or_create(self.table_url(layer, table)?).await
    }

    /// Replace the whole table with the result of `plan`, streamed (schema replaced too).
    pub async fn overwrite(
        &self,
        layer: Layer,
        table: &str,
        plan: LogicalPlan,
        state: SessionState,
        tag: &CommitTag,
    ) -> Result<WriteOutcome> {
        let written = self
            .writable(layer, table)
            .await?
            .write(vec![])
            .with_input_plan(plan)
            .with_session_state(Arc::new(state))
            .with_save_mode(SaveMode::Overwrite)
            .with_schema_mode(SchemaMode::Overwrite)
            .with_target_file_size(std::num::NonZeroU64::new(128 * 1024 * 1024))
            .with_commit_properties(commit_properties(tag))
            .await?;
        outcome(&written).await
    }

    /// Replace the `biz_date` partition of a table partitioned by `biz_date`
    /// (created on first write), streamed. Other dates are untouched.
    pub async fn replace_biz_date(
        &self,
        layer: Layer,
        table: &str,
        plan: LogicalPlan,
        state: SessionState,
        tag: &CommitTag,
    ) -> Result<WriteOutcome> {
        let target = self.writable(layer, table).await?;
        replace_biz_date_of(target, plan, state, tag).await
    }

    /// Where `_rejects.<name>` lives: rows of `src.<name>` that failed cleansing.
    pub fn rejects_url(&self, name: &str) -> Result<Url> {
        self.root
            .join(&format!("{REJECTS}/{name}/"))
            .map_err(|e| Error::Internal(format!("table url for {REJECTS}.{name}: {e}")))
    }

    /// Open `_rejects.<name>`, or `None` when nothing was ever rejected from it.
    pub async fn open_rejects(&self, name: &str) -> Result<Option<DeltaTable>> {
        open_url(self.rejects_url(name)?).await
    }

    /// Replace the `biz_date` partition of `_rejects.<name>`.
    pub async fn replace_rejects(
        &self,
        name: &str,
        plan: LogicalPlan,
        state: SessionState,
        tag: &CommitTag,
    ) -> Result<WriteOutcome> {
        let target = open_or_create(self.rejects_url(name)?).await?;
        replace_biz_date_of(target, plan, state, tag).await
    }
}

/// Where rejected source rows are kept: `_rejects.<system>_<table>`.
pub const REJECTS: &str = "_rejects";

/// The table at `url` at its latest version, or a handle for creating it there
/// (without loading a log that is not there yet).
async fn open_or_create(url: Url) -> Result<DeltaTable> {
    if let Some(existing) = open_url(url.clone()).await? {
        return Ok(existing);
    }
    if let Ok(path) = url.to_file_path() {
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(DeltaTableBuilder::from_url(url)?.build()?)
}

async fn replace_biz_date_of(
    target: DeltaTable,
    plan: LogicalPlan,
    state: SessionState,
    tag: &CommitTag,
) -> Result<WriteOutcome> {
    let exists = target.version().is_some();
    let mut write = target
        .write(vec![])
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_target_file_size(std::num::NonZeroU64::new(128 * 1024 * 1024))
        .with_commit_properties(commit_properties(tag));
    write = if exists {
        let days = days_since_epoch(tag.biz_date);
        write
            .with_save_mode(SaveMode::Overwrite)
            .with_replace_where(col("biz_date").eq(lit(ScalarValue::Date32(Some(days)))))
    } else {
        write
            .with_save_mode(SaveMode::ErrorIfExists)
            .with_partition_columns(["biz_date"])
    };
    let written = write.await?;
    outcome(&written).await
}

pub fn commit_properties(tag: &CommitTag) -> CommitProperties {
    commit_properties_with(tag, [])
}

/// [`commit_properties`] plus `extra` entries of the commit's metadata.
pub fn commit_properties_with(
    tag: &CommitTag,
    extra: impl IntoIterator<Item = (String, serde_json::Value)>,
) -> CommitProperties {
    let tagged = [
        (
            "lakemart.run_id".to_string(),
            serde_json::Value::from(tag.run_id.clone()),
        ),
        (
            "lakemart.biz_date".to_string(),
            serde_json::Value::from(tag.biz_date.to_string()),
        ),
        ("lakemart.model".to_string(), serde_json::Value::from(tag.model.clone())),
    ];
    CommitProperties::default().with_metadata(tagged.into_iter().chain(extra))
}

/// Version and rows added, read back from the commit's own metrics.
pub async fn outcome(table: &DeltaTable) -> Result<WriteOutcome> {
    let version = table.version().unwrap_or(0);
    let commits: Vec<_> = table.history(Some(1)).try_collect().await?;
    let rows = commits
        .first()
        .and_then(|c| c.info.get("operationMetrics"))
        .and_then(|m| m.get("num_added_rows"))
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    Ok(WriteOutcome {
        version,
        rows,
        note: None,
    })
}

/// Days since 1970-01-01, arrow's `Date32`.
pub fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}
