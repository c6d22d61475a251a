"""Plain Python: DuckDB transforms, transfers and layout. Nothing here imports Dagster."""
