"""A small retail world as an MCP tool server, for `suites/retail.yaml`.

Users, products and orders are read from `db.json` beside this file. Over stdio (the default)
gauntlet starts a fresh server for every run, so each run begins from the same world. With
`--http PORT` the server serves streamable HTTP on 127.0.0.1:PORT at `/mcp` for many runs at
once: each MCP session (gauntlet opens one per run) gets its own copy of the world, so runs
never see each other's changes, and the copy goes when the session ends. The tools
look the world up and change it under the store's policies (only a pending order can be
cancelled or re-addressed, only a delivered one returned or exchanged); a refused action raises
`ToolError`, which the model reads as the tool's error. The resource `state://db` is the whole
world as JSON: gauntlet reads it at the end of the run as the run's end state.

For the crash tests, `RETAIL_CRASH_ON=TOOL` makes the server exit when TOOL is called and
`RETAIL_HANG_ON=TOOL` makes it never answer.
"""

import argparse
import json
import os
import sys
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

PRISTINE = (Path(__file__).parent / "db.json").read_text()

# One world per MCP session, by its `Mcp-Session-Id` (`None`: stdio, one session per process).
_WORLDS: dict[str | None, dict] = {}
# The world of the request being served; tools read it through `db()`.
_WORLD: ContextVar[dict] = ContextVar("world")


def _world_of(context: Any) -> dict:
    request = context.request_context.request if context is not None else None
    session = request.headers.get("mcp-session-id") if request is not None else None
    world = _WORLDS.get(session)
    if world is None:
        world = _WORLDS[session] = json.loads(PRISTINE)
    return world


def db() -> dict:
    """The world of the session being served."""
    return _WORLD.get()


class RetailServer(MCPServer):
    """Serves each tool call and resource read in the world of its session."""

    async def call_tool(self, name, arguments, context=None):
        token = _WORLD.set(_world_of(context))
        try:
            return await super().call_tool(name, arguments, context)
        finally:
            _WORLD.reset(token)

    async def read_resource(self, uri, context=None):
        token = _WORLD.set(_world_of(context))
        try:
            return await super().read_resource(uri, context)
        finally:
            _WORLD.reset(token)


server = RetailServer("retail")


def _faults(tool: str) -> None:
    if os.environ.get("RETAIL_CRASH_ON") == tool:
        print(f"retail: crashing on {tool} as asked", file=sys.stderr, flush=True)
        os._exit(3)
    if os.environ.get("RETAIL_HANG_ON") == tool:
        print(f"retail: hanging on {tool} as asked", file=sys.stderr, flush=True)
        time.sleep(3600)


def _order(order_id: str) -> dict:
    order = db()["orders"].get(order_id)
    if order is None:
        raise ToolError(f"order {order_id} not found")
    return order


def _item(item_id: str) -> tuple[str, dict]:
    for product_id, product in db()["products"].items():
        if item_id in product["items"]:
            return product_id, product["items"][item_id]
    raise ToolError(f"item {item_id} not found")


@server.tool()
def find_user_by_email(email: str) -> dict:
    """Find a user by email; returns the user id."""
    _faults("find_user_by_email")
    for user_id, user in db()["users"].items():
        if user["email"] == email.lower():
            return {"user_id": user_id}
    raise ToolError(f"no user with email {email}")


@server.tool()
def get_user(user_id: str) -> dict:
    """A user's profile: name, email, address, payment methods."""
    _faults("get_user")
    user = db()["users"].get(user_id)
    if user is None:
        raise ToolError(f"user {user_id} not found")
    return {"user_id": user_id, **user}


@server.tool()
def get_order(order_id: str) -> dict:
    """An order: status, items, address, payment method, tracking."""
    _faults("get_order")
    return {"order_id": order_id, **_order(order_id)}


@server.tool()
def get_product(product_id: str) -> dict:
    """A product and its items (variants), with price and availability."""
    _faults("get_product")
    product = db()["products"].get(product_id)
    if product is None:
        raise ToolError(f"product {product_id} not found")
    return {"product_id": product_id, **product}


@server.tool()
def cancel_order(order_id: str, reason: str) -> dict:
    """Cancel a pending order; the payment is refunded."""
    _faults("cancel_order")
    order = _order(order_id)
    if order["status"] != "pending":
        raise ToolError(f"order {order_id} is {order['status']}: only pending orders can be cancelled")
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    return {"order_id": order_id, "status": "cancelled"}


@server.tool()
def modify_order_address(order_id: str, address: str) -> dict:
    """Change the shipping address of a pending order."""
    _faults("modify_order_address")
    order = _order(order_id)
    if order["status"] != "pending":
        raise ToolError(f"order {order_id} is {order['status']}: only pending orders can be modified")
    order["address"] = address
    return {"order_id": order_id, "address": address}


@server.tool()
def return_items(order_id: str, item_ids: list[str], payment_method: str) -> dict:
    """Return items of a delivered order; the refund goes to one of the user's payment methods."""
    _faults("return_items")
    order = _order(order_id)
    if order["status"] != "delivered":
        raise ToolError(f"order {order_id} is {order['status']}: only delivered orders can be returned")
    owned = [i["item_id"] for i in order["items"]]
    missing = [i for i in item_ids if i not in owned]
    if missing or not item_ids:
        raise ToolError(f"items {missing or item_ids} are not in order {order_id}")
    if payment_method not in db()["users"][order["user_id"]]["payment_methods"]:
        raise ToolError(f"payment method {payment_method} is not the user's")
    refund = sum(i["price"] for i in order["items"] if i["item_id"] in item_ids)
    order["status"] = "return requested"
    order["return"] = {"item_ids": sorted(item_ids), "payment_method": payment_method, "refund": refund}
    return {"order_id": order_id, "status": order["status"], "refund": refund}


@server.tool()
def exchange_items(order_id: str, item_ids: list[str], new_item_ids: list[str]) -> dict:
    """Exchange items of a delivered order for available items of the same product."""
    _faults("exchange_items")
    order = _order(order_id)
    if order["status"] != "delivered":
        raise ToolError(f"order {order_id} is {order['status']}: only delivered orders can be exchanged")
    if len(item_ids) != len(new_item_ids) or not item_ids:
        raise ToolError("give one new item for each item exchanged")
    owned = {i["item_id"]: i for i in order["items"]}
    for old, new in zip(item_ids, new_item_ids):
        if old not in owned:
            raise ToolError(f"item {old} is not in order {order_id}")
        product, item = _item(new)
        if product != owned[old]["product"]:
            raise ToolError(f"item {new} is not a {owned[old]['product']}")
        if not item["available"]:
            raise ToolError(f"item {new} is not available")
    order["status"] = "exchange requested"
    order["exchange"] = {"item_ids": item_ids, "new_item_ids": new_item_ids}
    return {"order_id": order_id, "status": order["status"]}


@server.resource("state://db", mime_type="application/json")
def state() -> str:
    """The whole world, read by gauntlet at the end of a run."""
    return json.dumps(db(), sort_keys=True)


if __name__ == "__main__":
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT/mcp")
    port = args.parse_args().http
    if port is None:
        server.run()
    else:
        import uvicorn

        app = server.streamable_http_app(host="127.0.0.1")

        async def ending_sessions(scope, receive, send):
            """The app, dropping a session's world when the client ends the session (DELETE)."""
            await app(scope, receive, send)
            if scope["type"] == "http" and scope["method"] == "DELETE":
                headers = dict(scope["headers"])
                session = headers.get(b"mcp-session-id", b"").decode()
                if _WORLDS.pop(session, None) is not None:
                    print(f"retail: session ended, {len(_WORLDS)} open", file=sys.stderr, flush=True)

        uvicorn.run(ending_sessions, host="127.0.0.1", port=port, log_level="warning")
