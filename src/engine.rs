//! DataFusion session settings shared by compile, run and query, and the
//! catalog helpers that expose tables as `layer.table`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use deltalake::DeltaTable;
use deltalake::datafusion::catalog::{MemorySchemaProvider, TableProvider};
use deltalake::datafusion::config::ConfigOptions;
use deltalake::datafusion::execution::SessionStateBuilder;
use deltalake::datafusion::execution::memory_pool::FairSpillPool;
use deltalake::datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::delta_datafusion::DeltaSessionContext;

use crate::error::{Error, Result, df_message};
use crate::project::Layer;

/// A session with Delta's defaults (case-sensitive identifiers, Delta planner),
/// source spans kept for error locations, and `partitions` way parallelism.
pub fn session(partitions: usize) -> Result<SessionContext> {
    session_with(partitions, &BTreeMap::new())
}

/// A session as [`session`] makes, with a model's own DataFusion `settings` (its
/// `[models.settings]`, checked when the project was read) over the environment's
/// and lakemart's. Where the result prefers sort-merge joins
/// (`datafusion.optimizer.prefer_hash_join = false`) the session has at least two
/// partitions and repartitioned joins: DataFusion plans sort-merge joins only then.
pub fn session_with(partitions: usize, settings: &BTreeMap<String, String>) -> Result<SessionContext> {
    session_in(partitions, settings, runtime()?)
}

/// A session as [`session_with`] makes, drawing memory from `runtime`'s pool
/// (one of [`model_runtime`]'s, or the process-wide one).
pub fn session_in(
    partitions: usize,
    settings: &BTreeMap<String, String>,
    runtime: Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    let delta = DeltaSessionContext::new_with_session_overrides(&HashMap::new())?.into_inner();
    // Same config and Delta planner, but lakemart's runtime: its memory pool, not
    // an unbounded one.
    let mut state = SessionStateBuilder::new_from_existing(delta.state())
        .with_runtime_env(runtime)
        .build();
    let options = state.config_mut().options_mut();
    // Layers of settings, each applied in turn, later ones winning.
    // Strings as plain Utf8, not delta-rs's default Utf8View: a hash join's
    // output of view arrays keeps every data buffer of its build side alive, and
    // a chain of left joins of wide per-customer tables concatenates them again
    // at each step (aggregation.customer_holding_features at 100,000 customers:
    // 111 s and 10 GB of memory with views, 4 s and 1.4 GB without).
    let view_types = "datafusion.execution.parquet.schema_force_view_types";
    apply(options, vec![(view_types.to_string(), "false".to_string())], false)?;
    apply(options, env_overrides(), true)?;
    let target_partitions = "datafusion.execution.target_partitions".to_string();
    apply(options, vec![(target_partitions, partitions.max(1).to_string())], false)?;
    apply(
        options,
        settings.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        false,
    )?;
    let spans = "datafusion.sql_parser.collect_spans".to_string();
    apply(options, vec![(spans, "true".to_string())], false)?;
    // DataFusion plans sort-merge joins only with repartitioned joins over two or
    // more partitions; without them `prefer_hash_join = false` quietly gives the
    // worst hash join (one partition, the whole build side in memory).
    if !options.optimizer.prefer_hash_join {
        options.optimizer.repartition_joins = true;
        options.execution.target_partitions = options.execution.target_partitions.max(2);
    }
    let ctx = SessionContext::new_with_state(state);
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| Error::Internal("default catalog missing".into()))?;
    for layer in [Layer::Src, Layer::Foundation, Layer::Aggregation, Layer::Application] {
        catalog.register_schema(layer.as_str(), Arc::new(MemorySchemaProvider::new()))?;
    }
    catalog.register_schema(crate::store::SYSTEM, Arc::new(MemorySchemaProvider::new()))?;
    catalog.register_schema(crate::store::REJECTS, Arc::new(MemorySchemaProvider::new()))?;
    Ok(ctx)
}

/// DataFusion settings from the environment, as DataFusion names them: the
/// setting `datafusion.optimizer.prefer_hash_join` is the variable
/// `DATAFUSION_OPTIMIZER_PREFER_HASH_JOIN`.
fn env_overrides() -> Vec<(String, String)> {
    ConfigOptions::default()
        .entries()
        .into_iter()
        .filter_map(|entry| std::env::var(env_var(&entry.key)).ok().map(|v| (entry.key, v)))
        .collect()
}

fn env_var(key: &str) -> String {
    key.to_uppercase().replace('.', "_")
}

/// Set one layer of settings. An umbrella option (`enable_dynamic_filter_pushdown`
/// sets three others) goes first, so a specific one of the same layer wins over it.
/// A bad value from the environment is a usage error naming the variable.
fn apply(options: &mut ConfigOptions, mut layer: Vec<(String, String)>, from_env: bool) -> Result<()> {
    layer.sort_by_key(|(k, _)| (k != "datafusion.optimizer.enable_dynamic_filter_pushdown", k.clone()));
    for (key, value) in layer {
        options.set(&key, &value).map_err(|e| match from_env {
            true => Error::Usage(format!(
                "environment variable {}={value}: {}",
                env_var(&key),
                df_message(&e)
            )),
            false => e.into(),
        })?;
    }
    Ok(())
}

/// A scan of `table` that follows `ctx`'s settings (string view types, Parquet
/// filter pushdown) rather than delta-rs's fixed defaults.
pub async fn provider(ctx: &SessionContext, table: &DeltaTable) -> Result<Arc<dyn TableProvider>> {
    Ok(table.table_provider().with_session(Arc::new(ctx.state())).await?)
}

/// Register Delta table `table` as `schema.name` in `ctx`, scanned as
/// [`provider`] makes it (following the session's settings).
pub async fn register_delta(ctx: &SessionContext, schema: &str, name: &str, table: &DeltaTable) -> Result<()> {
    register_in(ctx, schema, name, provider(ctx, table).await?)
}

/// Register `provider` as `layer.table` in a session made by [`session`].
pub fn register(ctx: &SessionContext, layer: Layer, table: &str, provider: Arc<dyn TableProvider>) -> Result<()> {
    register_in(ctx, layer.as_str(), table, provider)
}

/// Register `provider` as `schema.table` (`_lakemart.run`, …).
pub fn register_in(ctx: &SessionContext, schema: &str, table: &str, provider: Arc<dyn TableProvider>) -> Result<()> {
    let schema = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema(schema))
        .ok_or_else(|| Error::Internal(format!("schema {schema} missing from session")))?;
    schema.register_table(table.to_string(), provider)?;
    Ok(())
}

/// Bytes DataFusion may hold in memory in this process before operators that
/// can spill (sorts, aggregations, repartitions) spill to disk and those that
/// cannot (hash-join build sides) fail with "Resources exhausted".
static MEMORY_LIMIT: OnceLock<usize> = OnceLock::new();
static RUNTIME: OnceLock<Arc<RuntimeEnv>> = OnceLock::new();

/// Set the memory limit for the process. Only the first call counts, and only
/// before the first session is made; returns whether it took effect.
pub fn set_memory_limit(bytes: usize) -> bool {
    MEMORY_LIMIT.set(bytes.max(64 << 20)).is_ok() && RUNTIME.get().is_none()
}

/// The memory limit in force: the one set, else half of the memory this
/// process may use (the cgroup limit when there is one, else physical memory).
pub fn memory_limit() -> usize {
    *MEMORY_LIMIT.get_or_init(|| default_memory_limit().unwrap_or(4 << 30))
}

fn default_memory_limit() -> Option<usize> {
    let physical = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let total = match (physical, cgroup) {
        (Some(p), Some(c)) => p.min(c),
        (p, c) => p.or(c)?,
    };
    Some(total / 2)
}

/// Parse a size such as `6GiB`, `512MiB`, `8G`, `1.5g` or a plain byte count.
pub fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size (examples: 6GiB, 512MiB, 2000000000)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit \"{other}\" in \"{text}\" (use KiB, MiB, GiB or TiB)"
            ));
        }
    };
    let bytes = number * scale;
    if bytes.is_nan() || bytes < 1.0 {
        return Err(format!("\"{text}\" is not a positive size"));
    }
    Ok(bytes as usize)
}

/// The process-wide runtime: a fair spill pool of [`memory_limit`] bytes and
/// DataFusion's default disk manager (spill files in the OS temp directory), for
/// sessions outside a run's models (queries, serve, compile, `lakemart test`).
pub fn runtime() -> Result<Arc<RuntimeEnv>> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(Arc::clone(rt));
    }
    let rt = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(memory_limit())))
        .build_arc()?;
    Ok(Arc::clone(RUNTIME.get_or_init(|| rt)))
}

/// A runtime for one of `slots` models (or sources) a run builds at once: its own
/// fair spill pool of [`memory_limit`]` / slots`. What a model may hold, and so
/// whether it fits, does not depend on what runs beside it: a sort-merge join's
/// dozens of sorts no longer squeeze an aggregation in the other slot out of the pool.
pub fn model_runtime(slots: usize) -> Result<Arc<RuntimeEnv>> {
    let share = (memory_limit() / slots.max(1)).max(16 << 20);
    Ok(RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(share)))
        .build_arc()?)
}

/// Number of cores, the default parallelism.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Hand the heap's free memory back to the kernel before one big allocation: the
/// binary tells glibc's malloc to keep up to 1 GiB of free heap for reuse (main.rs),
/// which would otherwise stay resident beside it (a 40M-row table's fingerprints,
/// 1 GB, after the table's write: 2.3 GB of RSS).
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free pages of malloc's own heaps to the
        // kernel; it takes malloc's locks, and no memory in use is touched.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    /// A model that prefers sort-merge joins gets them even with one partition
    /// left to it: two partitions and repartitioned joins, whatever else says.
    #[tokio::test]
    async fn preferring_sort_merge_joins_gives_the_session_what_they_need() {
        let settings = std::collections::BTreeMap::from([
            ("datafusion.optimizer.prefer_hash_join".to_string(), "FALSE".to_string()),
            (
                "datafusion.optimizer.repartition_joins".to_string(),
                "false".to_string(),
            ),
        ]);
        let ctx = super::session_with(1, &settings).unwrap();
        let options = ctx.state().config().options().clone();
        assert_eq!(options.execution.target_partitions, 2);
        assert!(options.optimizer.repartition_joins);
        assert!(!options.execution.parquet.schema_force_view_types);
        let join = "SELECT count(*) FROM generate_series(1, 10) a JOIN generate_series(1, 10) b ON a.value = b.value";
        let plan = ctx.sql(join).await.unwrap().create_physical_plan().await.unwrap();
        let text = deltalake::datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        assert!(text.contains("SortMergeJoin"), "{text}");

        let ctx = super::session(1).unwrap();
        let plan = ctx.sql(join).await.unwrap().create_physical_plan().await.unwrap();
        let text = deltalake::datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        assert!(
            text.contains("HashJoinExec") && !text.contains("SortMergeJoin"),
            "{text}"
        );
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("6GiB"), Ok(6 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("8g"), Ok(8 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2000000000"), Ok(2_000_000_000));
        assert!(parse_size("lots").unwrap_err().contains("is not a size"));
        assert!(parse_size("6 parsecs").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("0").unwrap_err().contains("not a positive size"));
    }
}
