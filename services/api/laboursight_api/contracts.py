"""``/asyncapi.json``: the AsyncAPI 3.0 document of every Kafka topic and event; no authentication.

The HTTP side is in ``/openapi.json``; this is the other half of the contract: what the api and
the other services publish and consume, generated from ``laboursight_schemas.topology``.
"""

from fastapi import APIRouter, Response

from laboursight_schemas import asyncapi

router = APIRouter(tags=["contracts"])


@router.get(
    "/asyncapi.json",
    response_class=Response,
    responses={
        200: {
            "description": "The AsyncAPI 3.0.0 document (JSON) of laboursight's Kafka topics, "
            "messages and operations",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["asyncapi", "info", "channels", "operations"],
                        "properties": {"asyncapi": {"type": "string", "const": "3.0.0"}},
                    }
                }
            },
        }
    },
)
async def asyncapi_document() -> Response:
    """The event contract of the whole system, as the code generates it."""
    return Response(asyncapi.rendered(), media_type="application/json")
