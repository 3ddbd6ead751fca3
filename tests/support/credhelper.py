"""A real ``docker-credential-NAME`` program for tests (the docker credential helper protocol).

``docker-credential-NAME get`` reads the server address on stdin and prints
``{"ServerURL", "Username", "Secret"}``; an unknown server exits 1 with
"credentials not found". ``list`` prints ``{ServerURL: Username}`` for every
login (the docker SDK asks that before a build when ``credsStore`` is set).
Each call is logged (``NAME.log``: action and server).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def fake_helper(folder: Path, name: str, answers: dict[str, tuple[str, str]]) -> Path:
    """A real ``docker-credential-NAME`` program: ``get`` reads the server on stdin, prints JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    script = folder / f"docker-credential-{name}"
    table = json.dumps({k: {"Username": u, "Secret": p} for k, (u, p) in answers.items()})
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"table = json.loads({table!r})\n"
        "server = sys.stdin.read().strip() if sys.argv[1] != 'list' else ''\n"
        f"open({str(log)!r}, 'a').write(sys.argv[1] + ' ' + server + '\\n')\n"
        "if sys.argv[1] == 'list':\n"
        "    print(json.dumps({k: v['Username'] for k, v in table.items()})); sys.exit(0)\n"
        "if sys.argv[1] != 'get' or server not in table:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps(dict(table[server], ServerURL=server)))\n"
    )
    script.chmod(0o755)
    return log
