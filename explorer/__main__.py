"""``python -m explorer``: see explorer.cli."""

from explorer.cli.main import main

raise SystemExit(main())
