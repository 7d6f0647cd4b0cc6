#!/usr/bin/env python3
"""A tiny customer-support agent that speaks gauntlet's JSON protocol (Python 3, stdlib only).

It stands for "the agent you already have": a rule-based loop over its own small world (or the
world a case sends in `fixtures.world`), reporting every step it takes so gauntlet can check
its trajectory. Three ways to run it, one per gauntlet target:

    python3 support_agent.py                 # command target: one request on stdin, one reply on stdout
    python3 support_agent.py --lines         # command target, persistent: JSON lines in, JSON lines out
    python3 support_agent.py --http PORT     # http target: POST a request, get the reply (PORT 0: any free port)

Request: {"id", "repeat", "input", "turns", "vars", "fixtures": {"world": {...}}}
Reply:   {"output", "trajectory": {"steps": [...]}, "usage": {...}, "state": {...}}
         (--lines: also "id" and "repeat", echoed from the request)
"""

import copy
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "rules-v1"

WORLD = {
    "orders": {
        "1001": {"status": "delivered", "total": 59.98, "carrier": "UPS", "delivered_on": "2026-03-12"},
        "1003": {"status": "shipped", "total": 24.5, "carrier": "UPS",
                 "tracking": "1Z999AA10123456784", "eta": "2026-03-23"},
        "1004": {"status": "processing", "total": 310.0},
    },
    "kb": {
        "password": "To reset your password, open Settings > Security and choose 'Reset password'.",
        "shipping": "Standard shipping takes 3-5 business days.",
    },
}


def merge(base, over):
    """Deep-merges `over` into a copy of `base`: how a case's fixtures adjust the world."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Run:
    """One case: the steps taken so far and the world they act on."""

    def __init__(self, request):
        self.world = merge(WORLD, request.get("fixtures", {}).get("world", {}))
        self.steps = []
        self.usage = {"input_tokens": 0, "output_tokens": 0}

    def think(self, text, tool_calls=()):
        """Records a model step (here: a rule firing), with usage counted as chars / 4."""
        step = {"type": "model", "model": MODEL,
                "usage": {"input_tokens": 20, "output_tokens": max(1, len(text or "") // 4)}}
        if text:
            step["content"] = text
        if tool_calls:
            step["tool_calls"] = [{"id": f"call_{len(self.steps)}_{i}", "name": n, "args": a}
                                  for i, (n, a) in enumerate(tool_calls)]
        for key in self.usage:
            self.usage[key] += step["usage"][key]
        self.steps.append(step)

    def tool(self, name, args, fn):
        """Runs a tool and records its step: a result, or an error."""
        self.think(None, [(name, args)])
        step = {"type": "tool", "name": name, "args": args}
        try:
            step["result"] = fn()
        except LookupError as e:
            step["error"] = str(e)
        self.steps.append(step)
        return step.get("result")

    def lookup_order(self, order_id):
        def go():
            if order_id not in self.world["orders"]:
                raise LookupError(f"order {order_id} not found")
            return self.world["orders"][order_id]
        return self.tool("lookup_order", {"order_id": order_id}, go)

    def answer(self, text):
        self.think(text)
        return text


def respond(run, message):
    """The agent's policy: a few rules, each a short tool-using loop."""
    text = message.lower()
    order = re.search(r"\border\s*#?(\d+)", text)
    if re.search(r"\b(human|manager|person)\b", text):
        run.tool("escalate_to_human", {"reason": "customer asked for a human"},
                 lambda: {"queued": True})
        run.steps.append({"type": "escalation", "reason": "customer asked for a human"})
        return run.answer("I have passed you to a human colleague; they will reply shortly.")
    if order and "refund" in text:
        oid = order.group(1)
        found = run.lookup_order(oid)
        if found is None:
            return run.answer(f"I could not find order {oid}. Please check the number.")
        if found["status"] != "delivered":
            return run.answer(f"Order {oid} is {found['status']}; it can be refunded once delivered.")
        result = run.tool("issue_refund", {"order_id": oid, "amount": found["total"]},
                          lambda: {"refunded": found["total"]})
        found["status"] = "refunded"
        return run.answer(f"I refunded {result['refunded']:.2f} USD for order {oid}.")
    if order:
        oid = order.group(1)
        found = run.lookup_order(oid)
        if found is None:
            return run.answer(f"I could not find order {oid}. Please check the number.")
        if found["status"] == "shipped":
            return run.answer(f"Order {oid} shipped with {found['carrier']}, tracking "
                              f"{found['tracking']}, expected on {found['eta']}.")
        if found["status"] == "processing":
            return run.answer(f"Order {oid} is being prepared and has not shipped yet.")
        return run.answer(f"Order {oid} is {found['status']}.")
    for topic, article in run.world["kb"].items():
        if topic in text:
            run.tool("search_kb", {"query": topic}, lambda: {"article": article})
            return run.answer(article)
    return run.answer("Could you tell me your order number?")


def handle(request):
    """One request in, one reply out: the whole protocol."""
    run = Run(request)
    output = ""
    for turn in request.get("turns") or [request["input"]]:
        run.steps.append({"type": "user", "content": turn})
        output = respond(run, turn)
    return {"output": output, "trajectory": {"steps": run.steps},
            "usage": run.usage, "state": {"orders": run.world["orders"]}}


def serve_lines():
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            reply = handle(request)
            # Echo the request's identity: gauntlet refuses a reply meant for another case.
            reply["id"], reply["repeat"] = request["id"], request["repeat"]
            print(json.dumps(reply), flush=True)


def serve_http(port):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            try:
                body = json.dumps(handle(json.loads(self.rfile.read(length)))).encode()
                code = 200
            except (ValueError, KeyError) as e:
                body, code = json.dumps({"error": str(e)}).encode(), 400
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass  # keep stderr quiet

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    # Tell whoever started us where we listen (port 0 picks a free one).
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


def main(argv):
    if argv[1:2] == ["--lines"]:
        serve_lines()
    elif argv[1:2] == ["--http"]:
        serve_http(int(argv[2]) if len(argv) > 2 else 8765)
    else:
        print(json.dumps(handle(json.load(sys.stdin))))


if __name__ == "__main__":
    main(sys.argv)
