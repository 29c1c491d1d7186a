"""``python -m mcvar``: the same as the ``mcvar`` command."""

from .cli import main

main()
