"""Write README.md's configuration table from the table of options (dlc_tasks/config/options.py).

    ./dev python docs/options_table.py

tests/unit/test_options.py fails when README.md's table is not what this writes.
"""

from __future__ import annotations

from pathlib import Path

from dlc_tasks.config.options import with_table

README = Path(__file__).resolve().parent.parent / "README.md"

if __name__ == "__main__":
    README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
