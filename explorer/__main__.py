"""``python -m explorer``: see explorer.cli."""

from .cli import main

raise SystemExit(main())
