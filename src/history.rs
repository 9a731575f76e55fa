//! Time travel: a table's commits read from its Delta log (version, time,
//! operation, run, business date, rows), the version current for a business
//! date, and restoring a table to an earlier version as a new, tagged commit.
//!
//! Every lakemart commit carries `lakemart.biz_date`; a commit without it
//! (OPTIMIZE, VACUUM) belongs to the business date of the last tagged commit before it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use deltalake::DeltaTable;
use deltalake::kernel::CommitInfo;
use deltalake::logstore::LogStore;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::compile::suggest;
use crate::error::{Error, Result};
use crate::project::{Layer, Project};
use crate::store::{CommitTag, Lakehouse, commit_properties};

/// Commit-info keys lakemart writes on every commit (`store::commit_properties`).
const RUN_ID: &str = "lakemart.run_id";
const BIZ_DATE: &str = "lakemart.biz_date";
const MODEL: &str = "lakemart.model";

/// Output formats of `lakemart history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    /// Aligned columns with a header line.
    Text,
    /// One JSON object per version, a line each.
    Json,
}

/// One commit of a table, as its Delta log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// The table version this commit made.
    pub version: u64,
    /// When it was committed (the commit's own timestamp, else the log file's).
    pub timestamp: Option<DateTime<Utc>>,
    /// Delta's operation name: `WRITE`, `MERGE`, `RESTORE`, `OPTIMIZE`, …
    pub operation: String,
    /// `lakemart.run_id`, when lakemart made the commit.
    pub run_id: Option<String>,
    /// `lakemart.biz_date` as tagged on this commit (untagged commits: `None`).
    pub biz_date: Option<NaiveDate>,
    /// `lakemart.model`.
    pub model: Option<String>,
    /// Rows the commit added, where its operation metrics say.
    pub rows_added: Option<u64>,
    /// Rows the commit removed, where its operation metrics say.
    pub rows_removed: Option<u64>,
    /// `lakemart.changes_applied`: the change set an scd2 history fed one applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes_applied: Option<String>,
}

/// The table's commits up to its loaded version, newest first.
///
/// Read from the log directly: `DeltaTable::history` streams `CommitInfo`s without
/// their version numbers (and skips commits that have none), so it cannot be zipped
/// with versions once old log files have been cleaned up.
pub async fn commits(table: &DeltaTable) -> Result<Vec<Commit>> {
    let Some(latest) = table.version() else {
        return Ok(Vec::new());
    };
    let log_store = table.log_store();
    let listed = log_store
        .object_store(None)
        .list_with_delimiter(Some(log_store.log_path()))
        .await
        .map_err(|e| Error::Delta(e.into()))?;
    let mut files: Vec<(u64, DateTime<Utc>)> = listed
        .objects
        .iter()
        .filter_map(|meta| {
            let version = commit_file_version(meta.location.filename()?)?;
            (version <= latest).then_some((version, meta.last_modified))
        })
        .collect();
    files.sort_unstable_by_key(|f| std::cmp::Reverse(f.0));
    let log_store = &log_store;
    futures::stream::iter(files)
        .map(|(version, modified)| async move {
            let bytes = log_store.read_commit_entry(version).await?.ok_or_else(|| {
                Error::Internal(format!(
                    "commit {version} was listed in the Delta log but cannot be read"
                ))
            })?;
            parse_commit(version, &bytes, modified)
        })
        .buffered(16)
        .try_collect()
        .await
}

/// `00000000000000000012.json` → 12; checkpoints and anything else → `None`.
fn commit_file_version(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// One commit file (newline-delimited actions) → its [`Commit`].
fn parse_commit(version: u64, bytes: &[u8], modified: DateTime<Utc>) -> Result<Commit> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "commitInfo")]
        commit_info: Option<CommitInfo>,
    }
    let text = String::from_utf8_lossy(bytes);
    let mut info = CommitInfo::default();
    for line in text.lines().filter(|l| l.contains("\"commitInfo\"")) {
        let parsed: Line = serde_json::from_str(line)
            .map_err(|e| Error::Internal(format!("commit {version} of the Delta log is not valid JSON: {e}")))?;
        if let Some(found) = parsed.commit_info {
            info = found;
            break;
        }
    }
    let text_of = |key: &str| info.info.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let metrics = info.info.get("operationMetrics");
    let metric = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            let v = metrics?.get(*k)?;
            v.as_u64().or_else(|| v.as_str()?.parse().ok())
        })
    };
    Ok(Commit {
        version,
        timestamp: info
            .in_commit_timestamp
            .or(info.timestamp)
            .and_then(DateTime::from_timestamp_millis)
            .or(Some(modified)),
        operation: info.operation.clone().unwrap_or_else(|| "UNKNOWN".into()),
        run_id: text_of(RUN_ID),
        biz_date: text_of(BIZ_DATE).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        model: text_of(MODEL),
        // WRITE; MERGE; DELETE.
        rows_added: metric(&["num_added_rows", "num_target_rows_inserted"]),
        rows_removed: metric(&["num_target_rows_deleted", "num_deleted_rows"]),
        changes_applied: text_of("lakemart.changes_applied"),
    })
}

/// The business date each commit belongs to: its own tag, else the last tagged
/// commit's before it. `commits` newest first; the answer is in the same order.
fn effective_dates(commits: &[Commit]) -> Vec<Option<NaiveDate>> {
    let mut current = None;
    let mut dates: Vec<Option<NaiveDate>> = commits
        .iter()
        .rev()
        .map(|c| {
            current = c.biz_date.or(current);
            current
        })
        .collect();
    dates.reverse();
    dates
}

/// The latest version of `commits` (newest first) that belongs to `biz_date` or an earlier date.
pub fn version_for(commits: &[Commit], biz_date: NaiveDate) -> Option<u64> {
    commits
        .iter()
        .zip(effective_dates(commits))
        .find(|(_, d)| d.is_some_and(|d| d <= biz_date))
        .map(|(c, _)| c.version)
}

/// The business date version `version` of a table belongs to.
fn date_of(commits: &[Commit], version: u64) -> Option<NaiveDate> {
    let dates = effective_dates(commits);
    commits.iter().position(|c| c.version == version).and_then(|i| dates[i])
}

/// The latest version of `table` whose commit's `lakemart.biz_date` is on or before
/// `biz_date` (untagged commits count for the date before them); `None` when the
/// table did not exist yet for that date. An error when the log that would answer
/// has been cleaned up.
pub async fn version_as_of(table: &DeltaTable, biz_date: NaiveDate) -> Result<Option<u64>> {
    let commits = commits(table).await?;
    let found = version_for(&commits, biz_date);
    if found.is_none()
        && let Some(oldest) = commits.last()
        && oldest.version > 0
    {
        return Err(Error::Usage(format!(
            "{}: the Delta log before version {} has been cleaned up, so the version for business date {biz_date} \
             is no longer known",
            table.table_url(),
            oldest.version
        )));
    }
    Ok(found)
}

/// `layer.table` as it was for `biz_date`, or `None` when it did not exist then
/// (or was never built).
pub async fn open_as_of(
    lakehouse: &Lakehouse,
    layer: Layer,
    table: &str,
    biz_date: NaiveDate,
) -> Result<Option<DeltaTable>> {
    let Some(mut t) = lakehouse.open(layer, table).await? else {
        return Ok(None);
    };
    match version_as_of(&t, biz_date).await? {
        Some(v) => {
            if t.version() != Some(v) {
                t.load_version(v).await?;
            }
            Ok(Some(t))
        }
        None => Ok(None),
    }
}

/// Open a model or staged source named `layer.table` at its latest version:
/// a usage error naming the closest names when the project has no such table,
/// a failure when it was never built.
pub async fn open_model(project: &Project, lakehouse: &Lakehouse, name: &str) -> Result<DeltaTable> {
    let known = project.models.contains_key(name) || project.sources.contains_key(name);
    let parts = name.split_once('.').and_then(|(l, t)| Layer::parse(l).map(|l| (l, t)));
    let (Some((layer, table)), true) = (parts, known) else {
        let names = project.models.keys().chain(project.sources.keys()).map(String::as_str);
        return Err(Error::Usage(format!(
            "unknown model '{name}' (name a model or source table as layer.table){}",
            suggest(name, names)
        )));
    };
    match lakehouse.open(layer, table).await? {
        Some(t) => Ok(t),
        None => Err(Error::Model {
            model: name.to_string(),
            message: format!(
                "has not been built in this lakehouse yet (no Delta table at {})",
                lakehouse.table_url(layer, table)?
            ),
            transient: false,
        }),
    }
}

/// `lakemart history` output: one line (or JSON object) per commit, newest first.
pub fn render(commits: &[Commit], format: HistoryFormat) -> Result<String> {
    let mut out = String::new();
    match format {
        HistoryFormat::Json => {
            for c in commits {
                out.push_str(&serde_json::to_string(c).map_err(|e| Error::Internal(e.to_string()))?);
                out.push('\n');
            }
        }
        HistoryFormat::Text => {
            let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            let rows: Vec<[String; 7]> = commits
                .iter()
                .map(|c| {
                    [
                        c.version.to_string(),
                        or_dash(c.timestamp.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())),
                        c.operation.clone(),
                        or_dash(c.run_id.clone()),
                        or_dash(c.biz_date.map(|d| d.to_string())),
                        or_dash(c.rows_added.map(|n| n.to_string())),
                        or_dash(c.rows_removed.map(|n| n.to_string())),
                    ]
                })
                .collect();
            let header = [
                "version",
                "committed (UTC)",
                "operation",
                "run id",
                "biz date",
                "rows added",
                "rows removed",
            ]
            .map(String::from);
            let mut widths = header.clone().map(|h| h.len());
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.len());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let line = format!(
                    "{:>w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  {:>w5$}  {:>w6$}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2],
                    w3 = widths[3],
                    w4 = widths[4],
                    w5 = widths[5],
                    w6 = widths[6],
                );
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Where `lakemart restore` takes a table back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTarget {
    /// The version that was current for a business date.
    Date(NaiveDate),
    /// A version number.
    Version(u64),
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub model: String,
    /// The version restored to.
    pub version: u64,
    /// The business date that version belongs to.
    pub biz_date: NaiveDate,
    /// The RESTORE commit's version; `None` when the table was already there.
    pub new_version: Option<u64>,
    /// The restore's run id, stored in its commit.
    pub run_id: String,
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.new_version {
            Some(new) => write!(
                f,
                "restored {} to version {} (business date {}) as version {new}",
                self.model, self.version, self.biz_date
            ),
            None => write!(
                f,
                "{} is already at version {} (business date {}); nothing to restore",
                self.model, self.version, self.biz_date
            ),
        }
    }
}

/// Restore the model or staged source `name` to `target` as a new Delta RESTORE
/// commit tagged with a fresh run id, the business date restored to and the model.
/// Holds the lakehouse lock meanwhile, so it never races a run.
pub async fn restore(project: &Project, lakehouse: &Lakehouse, name: &str, target: RestoreTarget) -> Result<Restored> {
    let table = open_model(project, lakehouse, name).await?;
    let me = lakehouse.lock_for_this_process().await?;
    let outcome = restore_locked(table, name, target, &me.run_id).await;
    lakehouse.unlock(&me).await?;
    outcome
}

async fn restore_locked(table: DeltaTable, name: &str, target: RestoreTarget, run_id: &str) -> Result<Restored> {
    // Read the latest state again under the lock.
    let mut table = table;
    table.update_state().await?;
    let commits = commits(&table).await?;
    let current = table.version().unwrap_or(0);
    let oldest = commits.last().map(|c| c.version).unwrap_or(0);
    let (version, biz_date) = match target {
        RestoreTarget::Version(v) => {
            if v > current || v < oldest {
                return Err(Error::Usage(format!(
                    "{name} has no version {v} to restore: its versions are {oldest} to {current} \
                     (see `lakemart history {name}`)"
                )));
            }
            let date = date_of(&commits, v).ok_or_else(|| {
                Error::Usage(format!(
                    "version {v} of {name} was not written by lakemart (no {BIZ_DATE} on it or before it); \
                     restore it with --to-date"
                ))
            })?;
            (v, date)
        }
        RestoreTarget::Date(d) => {
            let v = version_for(&commits, d).ok_or_else(|| {
                let first = commits.iter().rev().find_map(|c| c.biz_date);
                Error::Usage(match first {
                    Some(first) => {
                        format!("{name} did not exist yet on business date {d}: its first business date is {first}")
                    }
                    None => format!("{name} has no commit tagged with a business date"),
                })
            })?;
            (v, date_of(&commits, v).unwrap_or(d))
        }
    };
    let mut restored = Restored {
        model: name.to_string(),
        version,
        biz_date,
        new_version: None,
        run_id: run_id.to_string(),
    };
    if version == current {
        return Ok(restored);
    }
    let tag = CommitTag {
        run_id: run_id.to_string(),
        biz_date,
        model: name.to_string(),
    };
    let (table, _metrics) = table
        .restore()
        .with_version_to_restore(version)
        .with_commit_properties(commit_properties(&tag))
        .await
        .map_err(|e| {
            // deltalake's words for a vacuumed data file: "Find missing file <path> when restore."
            let hint = if e.to_string().contains("Find missing file") {
                " (its data files are older than the vacuum retention of `lakemart maintain`)"
            } else {
                ""
            };
            Error::Model {
                model: name.to_string(),
                message: format!("cannot restore version {version}{hint}: {e}"),
                transient: false,
            }
        })?;
    restored.new_version = table.version();
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn commit(version: u64, operation: &str, biz_date: Option<&str>) -> Commit {
        Commit {
            version,
            timestamp: None,
            operation: operation.into(),
            run_id: biz_date.map(|d| format!("run-{d}")),
            biz_date: biz_date.map(date),
            model: None,
            rows_added: None,
            rows_removed: None,
            changes_applied: None,
        }
    }

    // v0 WRITE 06-28, v1 WRITE 06-29, v2 OPTIMIZE (untagged: 06-29), v3 WRITE 06-30.
    fn nightly() -> Vec<Commit> {
        vec![
            commit(3, "WRITE", Some("2024-06-30")),
            commit(2, "OPTIMIZE", None),
            commit(1, "WRITE", Some("2024-06-29")),
            commit(0, "WRITE", Some("2024-06-28")),
        ]
    }

    #[test]
    fn version_for_picks_the_latest_commit_on_or_before_the_date() {
        let c = nightly();
        assert_eq!(version_for(&c, date("2024-06-27")), None, "before the table existed");
        assert_eq!(version_for(&c, date("2024-06-28")), Some(0));
        // The untagged OPTIMIZE belongs to 06-29, the date before it.
        assert_eq!(version_for(&c, date("2024-06-29")), Some(2));
        assert_eq!(version_for(&c, date("2024-06-30")), Some(3));
        assert_eq!(
            version_for(&c, date("2024-07-15")),
            Some(3),
            "a later date sees the latest"
        );
    }

    #[test]
    fn a_restore_or_rerun_supersedes_earlier_commits_of_its_date() {
        // v4 RESTORE to v1, tagged 06-29: the latest word on 06-29 and on 06-30.
        let mut c = nightly();
        c.insert(0, commit(4, "RESTORE", Some("2024-06-29")));
        assert_eq!(version_for(&c, date("2024-06-29")), Some(4));
        assert_eq!(version_for(&c, date("2024-06-30")), Some(4));
        assert_eq!(version_for(&c, date("2024-06-28")), Some(0));
        assert_eq!(date_of(&c, 2), Some(date("2024-06-29")));
    }

    #[test]
    fn untagged_commits_before_any_tag_belong_to_no_date() {
        let c = vec![commit(1, "WRITE", Some("2024-06-30")), commit(0, "CREATE TABLE", None)];
        assert_eq!(version_for(&c, date("2024-06-29")), None);
        assert_eq!(date_of(&c, 0), None);
        assert_eq!(version_for(&c, date("2024-06-30")), Some(1));
    }

    #[test]
    fn commit_files_are_told_from_checkpoints() {
        assert_eq!(commit_file_version("00000000000000000012.json"), Some(12));
        assert_eq!(commit_file_version("00000000000000000010.checkpoint.parquet"), None);
        assert_eq!(commit_file_version("_last_checkpoint"), None);
        assert_eq!(commit_file_version("00000000000000000012.crc"), None);
    }

    #[test]
    fn parse_commit_reads_tags_metrics_and_time() {
        let log = concat!(
            r#"{"add":{"path":"part-0.parquet","size":1,"modificationTime":0,"dataChange":true,"partitionValues":{}}}"#,
            "\n",
            r#"{"commitInfo":{"timestamp":1719792000000,"operation":"MERGE","operationParameters":{},"#,
            r#""operationMetrics":{"num_target_rows_inserted":3,"num_target_rows_deleted":"1"},"#,
            r#""lakemart.run_id":"20240701T000000.000Z-00042","lakemart.biz_date":"2024-06-30","#,
            r#""lakemart.model":"application.customer_360"}}"#,
            "\n"
        );
        let modified = DateTime::from_timestamp_millis(0).unwrap();
        let c = parse_commit(7, log.as_bytes(), modified).unwrap();
        assert_eq!(
            c,
            Commit {
                version: 7,
                timestamp: DateTime::from_timestamp_millis(1_719_792_000_000),
                operation: "MERGE".into(),
                run_id: Some("20240701T000000.000Z-00042".into()),
                biz_date: Some(date("2024-06-30")),
                model: Some("application.customer_360".into()),
                rows_added: Some(3),
                rows_removed: Some(1),
                changes_applied: None,
            }
        );
        // A commit file without commitInfo (other writers): the file's time, no tags.
        let bare = parse_commit(8, b"{\"remove\":{\"path\":\"x\"}}\n", modified).unwrap();
        assert_eq!((bare.operation.as_str(), bare.timestamp), ("UNKNOWN", Some(modified)));
    }

    #[test]
    fn render_text_aligns_columns_and_json_is_one_object_a_line() {
        let mut c = nightly();
        c[0].rows_added = Some(3);
        c[0].timestamp = DateTime::from_timestamp_millis(1_719_792_000_000);
        let text = render(&c[..2], HistoryFormat::Text).unwrap();
        assert_eq!(
            text,
            "version  committed (UTC)      operation  run id          biz date    rows added  rows removed\n\
             \x20     3  2024-07-01 00:00:00  WRITE      run-2024-06-30  2024-06-30           3             -\n\
             \x20     2  -                    OPTIMIZE   -               -                    -             -\n"
        );
        let json = render(&c[..2], HistoryFormat::Json).unwrap();
        let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["version"], 3);
        assert_eq!(lines[0]["timestamp"], "2024-07-01T00:00:00Z");
        assert_eq!(lines[0]["biz_date"], "2024-06-30");
        assert_eq!(lines[1]["biz_date"], serde_json::Value::Null);
    }
}
