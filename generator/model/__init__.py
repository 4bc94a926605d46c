"""Model: the district as plain records, and what is judged of it (status, readiness, progress)."""
