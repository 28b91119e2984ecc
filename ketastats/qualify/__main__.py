"""``python -m ketastats.qualify``: record the SHA-256 of every reference file (after re-running an R script).

The files are those of ``tests/reference/`` in the repository; the hashes go to
``ketastats/qualify/reference_sha256.json``, which ``ketastats qualify`` checks the installed copy against.
"""

from ketastats.qualify import REQUIREMENTS
from ketastats.qualify.sources import write_hashes

if __name__ == "__main__":
    print(f"wrote {write_hashes({r.folder for r in REQUIREMENTS})}")
