"""The JSON Schema of the plan language, for editors (``ketastats schema``).

Example
-------
>>> plan_json_schema()["title"]
'Plan'
"""

from __future__ import annotations


def plan_json_schema() -> dict:
    from ketastats.plan.schema import plan_model

    schema = plan_model().model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
