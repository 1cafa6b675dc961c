"""The web interface of grants: one module per audience (applications, manager,
finance, dashboard); shared helpers in `common`."""
