"""The ``ketastats`` command line: a thin shell over :mod:`ketastats.api`."""
