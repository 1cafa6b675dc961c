"""The kernel every app shares, importing none of them: the errors services raise and
the one helper that turns a refused Decision into one (`errors.require`), Decision
itself, money and date helpers, and what every page needs (`web`). docs/architecture.md
has the layers."""
