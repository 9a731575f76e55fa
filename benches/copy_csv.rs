//! The peer of the ingest benchmark (benches/ingest.sh): a plain DataFusion
//! `COPY` of a CSV file to Parquet, every column read as text, no cleansing,
//! with the same DataFusion and the same parallelism lakemart uses. Short
//! (malformed) records are read with NULLs (`truncated_rows`) instead of failing.
//!
//!     copy_csv IN.csv OUT.parquet

use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: copy_csv IN.csv OUT.parquet".into());
    };
    let header = std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(input)?))
        .next()
        .ok_or("empty file")??;
    let schema = Schema::new(
        header
            .split(',')
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(cores));
    ctx.register_csv(
        "extract",
        input,
        CsvReadOptions::new()
            .has_header(true)
            .truncated_rows(true)
            .schema(&schema),
    )
    .await?;
    let started = std::time::Instant::now();
    let out = ctx
        .sql(&format!("COPY (SELECT * FROM extract) TO '{output}' STORED AS PARQUET"))
        .await?
        .collect()
        .await?;
    let rows = deltalake::arrow::util::pretty::pretty_format_batches(&out)?;
    eprintln!("copied in {:.2} s\n{rows}", started.elapsed().as_secs_f64());
    Ok(())
}
