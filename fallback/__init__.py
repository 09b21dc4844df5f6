"""fallback: what keeps events when Engage cannot take them, and delivers them another way.

Public API:

- deadletters: `DeadLetter`, `DeadLetterFilter`, `DeadLetterStore`, `RedisDeadLetterStore`,
  `MemoryDeadLetterStore`.
- rejected: `Rejection`, `RejectedStore`, `RedisRejectedStore`, `MemoryRejectedStore`.
- replay: `DeadLetterReplayer` (claimed re-publication of the original envelope).
- config: `FallbackSettings` (a tenant's transport, credentials, folders, contacts channel, breaker mode).
- xmlfiles: the Voyado import formats (`ContactsFileWriter`, `TransactionsFileWriter`,
  `RedemptionsFileWriter`, `write_batches`, `validate_file`, `build_file_name`), XSDs in `fallback/xsd/`.
- uploaders: `Uploader`, `LocalDirUploader`, `FtpUploader`, `FtpsUploader`, `SftpUploader`, `MemoryUploader`,
  `uploader_for`, `UploadTarget`, `UploadUnavailable`, `UploadRejected`, `RemoteNameTaken`,
  `next_upload_attempt`. An upload makes missing sub-folders and never replaces a file on the server.
- outbox: `Outbox` (a tenant's local files awaiting a verified upload; a name taken on the server moves
  the file to the next number), `REMOTE_SUBDIR_BY_KIND`.
- file_sequence: `FileSequence`, `RedisFileSequence`, `MemoryFileSequence` (file numbers never used twice
  per tenant and kind; `engage:fallback:seq:{tenant}:{kind}`).
- sweep_lock: `SweepLock`, `RedisSweepLock`, `MemorySweepLock`.
- checkpoint: `CheckpointFile` (resumable migrations).

Imports only `schemas` and `engage` of this project.
"""
