from portal.cli import main
from portal.db import MigrationError

try:
    main(prog_name="python -m portal")
except MigrationError as exc:  # a stop with instructions, not a crash: no traceback
    raise SystemExit(f"error: {exc}") from None
