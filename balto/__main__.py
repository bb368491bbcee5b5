"""``python -m balto`` runs the command line."""

from balto.cli import main

raise SystemExit(main())
