"""The plan language's building blocks, below every registry.

:mod:`.fields` (the field types specs declare their keys with), :mod:`.formulas` (model
formulas), :mod:`.expressions` (the rule grammar), :mod:`.yaml_source` (safe YAML with line
numbers) and :mod:`.validation_errors` (pydantic errors as located issues). Analyses, figures,
derivations and data dictionaries use these; the assembled plan model lives in
:mod:`ketastats.plan`, above them all.
"""
