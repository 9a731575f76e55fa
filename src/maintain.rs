//! Table upkeep for the lakehouse: compact small files (Z-order where a model
//! declares `zorder`), write a checkpoint, and vacuum files older than the
//! time-travel window.

use std::collections::BTreeSet;

use deltalake::operations::optimize::OptimizeType;

use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::project::Layer;
use crate::run::split_name;
use crate::store::Lakehouse;

/// The shortest time-travel window lakemart will vacuum to.
pub const MIN_RETENTION_DAYS: u32 = 7;

/// Maintain every selected table that exists; prints one line per table.
pub async fn maintain(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    nodes: &BTreeSet<String>,
    retention_days: u32,
) -> Result<i32> {
    if retention_days < MIN_RETENTION_DAYS {
        return Err(Error::Usage(format!(
            "--retention-days {retention_days} would break time travel: keep at least {MIN_RETENTION_DAYS} days"
        )));
    }
    let mut failures = 0;
    for name in nodes {
        let (layer, table) = split_name(name)?;
        let meta = match layer {
            Layer::Src => None,
            _ => compiled.project.models.get(name).and_then(|m| m.meta.as_ref()),
        };
        let zorder: Vec<String> = meta.map(|m| m.zorder.clone()).unwrap_or_default();
        // A keyed table's compacted files are written as its own are (Zstandard, no
        // dictionary for the key, files of its size), so that its nightly in-place
        // rewrites keep walking them.
        let keyed = meta
            .filter(|m| m.materialization.is_keyed())
            .map(|m| m.unique_key.clone());
        let Some(t) = lakehouse.open(layer, table).await? else {
            println!("{name:<40} not built yet");
            continue;
        };
        match maintain_table(t, &zorder, keyed.as_deref(), retention_days).await {
            Ok(line) => println!("{name:<40} {line}"),
            Err(e) => {
                failures += 1;
                println!("{name:<40} FAILED: {e}");
            }
        }
    }
    Ok(if failures > 0 { 1 } else { 0 })
}

async fn maintain_table(
    table: deltalake::DeltaTable,
    zorder: &[String],
    keyed: Option<&[String]>,
    retention_days: u32,
) -> Result<String> {
    let kind = if zorder.is_empty() {
        OptimizeType::Compact
    } else {
        OptimizeType::ZOrder(zorder.to_vec())
    };
    let mut optimize = table.optimize().with_type(kind);
    if let Some(keys) = keyed {
        optimize = optimize
            .with_writer_properties(crate::materialize::keyed_props(keys))
            .with_target_size(crate::materialize::KEYED_FILE_SIZE);
    }
    let (table, optimized) = optimize.await?;
    deltalake::checkpoints::create_checkpoint(&table, None).await?;
    let (table, vacuumed) = table
        .vacuum()
        .with_retention_period(chrono::Duration::days(i64::from(retention_days)))
        .await?;
    Ok(format!(
        "{} files compacted into {}{}, checkpoint at v{}, {} old files vacuumed (keeping {retention_days} days)",
        optimized.num_files_removed,
        optimized.num_files_added,
        if zorder.is_empty() {
            String::new()
        } else {
            format!(" z-ordered by {}", zorder.join(", "))
        },
        table.version().unwrap_or(0),
        vacuumed.files_deleted.len()
    ))
}
