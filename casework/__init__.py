"""The caseload and the case file: the inbox of applications, the page of one application
with everything about it (its plan, documents, training, assessment, deliveries, visits,
history and the steps the user may take), and the applicant's own pages. They show what
grants and assessments hold side by side, so they sit above both (docs/architecture.md)."""
