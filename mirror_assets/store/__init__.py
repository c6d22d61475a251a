"""Object stores (a local folder, S3 or Swift), the publish, its manifest and checks. No Dagster."""
