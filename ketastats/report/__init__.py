"""Writing reports: tables, results.json, exclusions, manifest and report.html (the only module that writes)."""
