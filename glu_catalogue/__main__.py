"""``python -m glu_catalogue`` runs the command line."""

from .cli.commands import main

main()
