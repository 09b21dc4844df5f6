"""Migration of historical data before go-live (`engage-relay migrate contacts|receipts`).

Public:

- `jobs`: `MigrationSpec` (what to migrate, how), `Services` (Engage client, uploader, clock),
  `run_migration(spec, services, *, progress=None, hook=None, rejects=None) -> RunResult`,
  `MigrationSetupError`.
- `runner`: `MigrationRun` (the checkpointed loop), `RunResult`, `prepare_checkpoint`, `COUNTERS`, `Hook`.
- `sources`: `read_rows(path, fmt, start, start_line)`, `SourceRow`, `format_of`.
- `contacts`: `ContactRowMapper`, `data_from_columns` (CSV columns -> our customer data).
- `receipts`: `ReceiptRowMapper`, `history_cutoff(now, months, since)`, `months_before`.
- `sinks`: `FileSink`, `BulkSink` and their dry-run twins; `MigrationStopped`, `REMOTE_SUBDIRS`.
- `rejects`: `RejectsFile`, `MemoryRejects`; `report`: `ProgressBar`, `summary_lines`.

Rows are mapped by the same `mappers` as the API path; files and bulk requests are built by the
same `fallback.xmlfiles` writers and `engage` client as the fallback path.
"""
