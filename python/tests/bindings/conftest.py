from __future__ import annotations

import sys
from pathlib import Path

# farm_tables.py sits beside the tests; make it importable whatever the rootdir is.
sys.path.insert(0, str(Path(__file__).parent))
