"""The demo: an idempotent seed of every role and an application in every state, built
through the apps' services (`manage.py seed_demo`, `make run`), and the printed logins.
It uses every app, so it sits above them all (docs/architecture.md)."""
