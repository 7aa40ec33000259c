"""The health check of the mongod stand-in: exits 0 once this node is the writable primary.

Initiates the one-node replica set the first time, as the mongo:7 health check in
docker-compose.yml does with mongosh (this image has no mongosh). The member's address is
MONGO_MEMBER (default mongo:27017): the name the other containers reach it by.
"""

import os
import sys

from pymongo import MongoClient
from pymongo.errors import OperationFailure

_ALREADY_INITIALIZED = 23

member = os.environ.get("MONGO_MEMBER", "mongo:27017")
client: MongoClient[dict[str, object]] = MongoClient(
    "127.0.0.1", 27017, directConnection=True, serverSelectionTimeoutMS=3000
)
with client:
    try:
        client.admin.command(
            "replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": member}]}
        )
    except OperationFailure as exc:
        if exc.code != _ALREADY_INITIALIZED:
            raise
    sys.exit(0 if client.admin.command("hello").get("isWritablePrimary") else 1)
