//! DataFusion session settings shared by compile, run and query, and the
//! catalog helpers that expose tables as `layer.table`.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::datafusion::catalog::{MemorySchemaProvider, TableProvider};
use deltalake::datafusion::prelude::SessionContext;
use deltalake::delta_datafusion::DeltaSessionContext;

use crate::error::{Error, Result};
use crate::project::Layer;

/// A session with Delta's defaults (case-sensitive identifiers, Delta planner),
/// source spans kept for error locations, and `partitions` way parallelism.
pub fn session(partitions: usize) -> Result<SessionContext> {
    let partitions = partitions.max(1).to_string();
    let overrides = HashMap::from([
        ("datafusion.sql_parser.collect_spans".to_string(), "true".to_string()),
        ("datafusion.execution.target_partitions".to_string(), partitions),
    ]);
    let ctx = DeltaSessionContext::new_with_session_overrides(&overrides)?.into_inner();
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

/// Number of cores, the default parallelism.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}
