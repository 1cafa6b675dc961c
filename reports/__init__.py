"""The reports: the budget against commitments and deliveries, the programme figures
(people trained, enterprises supported, survival, jobs) with their breakdowns and
quarters, their CSV/XLSX exports, the dashboard and the finance budget page. They read
grants and assessments, so they sit above both (docs/architecture.md)."""
