"""Data-subject rights and retention: everything about one person in one ZIP, erasure by
pseudonymisation, the retention rule. It reaches into every app (people, grants,
training, documents, the audit trail), so it sits above them all (docs/architecture.md)."""
