"""``python -m ketastats`` is the ``ketastats`` command."""

from ketastats.cli.app import main

main()
