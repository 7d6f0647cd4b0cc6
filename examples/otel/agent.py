#!/usr/bin/env python3
"""A customer-support agent instrumented with plain OpenTelemetry, and no trajectory code at all.

It looks up an order (and refunds a delivered one) and answers. What it did is only in its
spans, named by the OpenTelemetry GenAI semantic conventions: an `invoke_agent` span per
request, a `chat` span per model call (here: a rule firing), an `execute_tool` span per tool
call. gauntlet's `traces: otlp` receives them and scores them as the trajectory; the reply is
just `{"output": ..., "state": ...}`.

    python agent.py                # command target, one request on stdin
    python agent.py --lines        # command target, persistent: JSON lines
    python agent.py --http PORT    # http target (PORT 0: any free port; the first line says which)

Variants for the tests: `--drop-tool` answers without looking the order up (a regression
gauntlet must catch); `--nested` hands the lookup to an `orders` sub-agent (a nested
`invoke_agent` span); `--stray-span` also exports one span outside the run's trace and
resource (which gauntlet counts as belonging to no run).

Trace context: gauntlet gives a per-case process `TRACEPARENT` and the OTLP endpoint in the
environment; a persistent process gets the endpoint in its environment and each request's
`traceparent` in the request; an http request carries the `traceparent` header and the
endpoint in `x-gauntlet-otlp-endpoint`. A SimpleSpanProcessor exports each span as it ends,
so every span is sent before the reply.
"""

import copy
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

MODEL = "rules-v1"
FLAGS = set(sys.argv[1:])

WORLD = {
    "orders": {
        "1001": {"status": "delivered", "total": 59.98, "carrier": "UPS"},
        "1003": {"status": "shipped", "total": 24.5, "carrier": "UPS",
                 "tracking": "1Z999AA10123456784"},
        "1004": {"status": "processing", "total": 310.0},
    },
}


def tracer_for(endpoint=None):
    """A tracer exporting over OTLP/HTTP protobuf; the endpoint from the environment
    (OTEL_EXPORTER_OTLP_ENDPOINT) unless given."""
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces") if endpoint else OTLPSpanExporter()
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES (the case id and repeat, from gauntlet).
    provider = TracerProvider(resource=Resource.create({"service.name": "otel-support-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, provider.get_tracer("examples.otel.agent")


class Agent:
    def __init__(self, tracer, world):
        self.tracer = tracer
        self.world = world
        self.calls = 0

    def chat(self, agent, text=None, tool_call=None):
        """A model call: here a rule firing, recorded as the conventions record an LLM call."""
        parts = []
        if text:
            parts.append({"type": "text", "content": text})
        if tool_call:
            name, args = tool_call
            parts.append({"type": "tool_call", "id": f"call_{self.calls}", "name": name,
                          "arguments": args})
        with self.tracer.start_as_current_span(f"chat {MODEL}", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.system": "rules",
                "gen_ai.request.model": MODEL, "gen_ai.agent.name": agent,
                "gen_ai.usage.input_tokens": 20,
                "gen_ai.usage.output_tokens": max(1, len(text or "") // 4),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": parts}])}):
            pass

    def tool(self, agent, name, args, fn):
        self.chat(agent, tool_call=(name, args))
        call_id = f"call_{self.calls}"
        self.calls += 1
        with self.tracer.start_as_current_span(f"execute_tool {name}", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": json.dumps(args)}) as span:
            try:
                result = fn()
            except LookupError as e:
                span.set_status(Status(StatusCode.ERROR, str(e)))
                return None
            span.set_attribute("gen_ai.tool.call.result", json.dumps(result))
            return result

    def lookup(self, agent, order_id):
        def go():
            if order_id not in self.world["orders"]:
                raise LookupError(f"order {order_id} not found")
            return self.world["orders"][order_id]
        if "--nested" in FLAGS:
            with self.tracer.start_as_current_span("invoke_agent orders", attributes={
                    "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "orders"}):
                return self.tool("orders", "lookup_order", {"order_id": order_id}, go)
        return self.tool(agent, "lookup_order", {"order_id": order_id}, go)

    def respond(self, message):
        agent = "support"
        order = re.search(r"\border\s*#?(\d+)", message.lower())
        if not order:
            return self.answer(agent, "Could you tell me your order number?")
        oid = order.group(1)
        if "--drop-tool" in FLAGS:
            return self.answer(agent, f"Order {oid} is on its way.")
        found = self.lookup(agent, oid)
        if found is None:
            return self.answer(agent, f"I could not find order {oid}.")
        if "refund" in message.lower() and found["status"] == "delivered":
            self.tool(agent, "issue_refund", {"order_id": oid, "amount": found["total"]},
                      lambda: {"refunded": found["total"]})
            found["status"] = "refunded"
            return self.answer(agent, f"I refunded {found['total']:.2f} USD for order {oid}.")
        if found["status"] == "shipped":
            return self.answer(agent, f"Order {oid} shipped with {found['carrier']}, "
                                      f"tracking {found['tracking']}.")
        return self.answer(agent, f"Order {oid} is {found['status']}.")

    def answer(self, agent, text):
        self.chat(agent, text=text)
        return text


def handle(request, tracer, traceparent):
    world = copy.deepcopy(WORLD)
    world["orders"].update(request.get("fixtures", {}).get("world", {}).get("orders", {}))
    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent or ""})
    with tracer.start_as_current_span("invoke_agent support", context=parent, attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"}):
        output = Agent(tracer, world).respond(request["input"])
    if "--stray-span" in FLAGS:
        stray = TracerProvider(resource=Resource({"service.name": "stray"}))
        stray.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
        with stray.get_tracer("stray").start_as_current_span("housekeeping", context=Context()):
            pass
        stray.shutdown()
    # No trajectory: gauntlet reads it from the spans.
    return {"output": output, "state": {"orders": world["orders"]}}


def serve_lines():
    provider, tracer = tracer_for()
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            reply = handle(request, tracer, request.get("traceparent"))
            reply["id"], reply["repeat"] = request["id"], request["repeat"]
            print(json.dumps(reply), flush=True)
    provider.shutdown()


def serve_http(port):
    tracers = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            endpoint = self.headers.get("x-gauntlet-otlp-endpoint")
            if endpoint not in tracers:
                tracers[endpoint] = tracer_for(endpoint)
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            body = json.dumps(handle(request, tracers[endpoint][1],
                                     self.headers.get("traceparent"))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


def main(argv):
    if "--lines" in argv:
        serve_lines()
    elif "--http" in argv:
        i = argv.index("--http")
        serve_http(int(argv[i + 1]) if len(argv) > i + 1 else 8765)
    else:
        provider, tracer = tracer_for()
        print(json.dumps(handle(json.load(sys.stdin), tracer, os.environ.get("TRACEPARENT"))))
        provider.shutdown()


if __name__ == "__main__":
    main(sys.argv)
