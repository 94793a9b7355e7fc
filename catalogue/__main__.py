"""``python -m catalogue`` runs the command line."""

from .cli import main

main()
