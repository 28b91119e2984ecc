"""The package version (one place; ``ketastats.__version__`` and the manifest read it).

>>> isinstance(__version__, str)
True
"""

__version__ = "0.1.0"
