"""The suite's own folder for gradviz's cache of compiled SymPy derivatives.

A test run checks many ops; their compiled derivatives go to a temporary folder of this run (which the
cache still exercises), never into the user's ~/.cache. tests/test_first_answer.py points its own
processes at folders of its own.
"""

import os
import tempfile

os.environ.setdefault("GRADVIZ_CACHE_DIR", tempfile.mkdtemp(prefix="gradviz-test-cache-"))
