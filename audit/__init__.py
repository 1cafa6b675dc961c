"""The audit trail, below every app so that each can write to it: `trail.record` appends a
hash-chained event (its free text beside the chain), `trail.verify_chain` proves the
chain, `trail.snapshot` / `trail.changes` give the before and after of a write. It
imports no app (docs/architecture.md)."""
