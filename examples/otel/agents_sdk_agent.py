#!/usr/bin/env python3
"""A support agent on the OpenAI Agents SDK, with its standard OpenInference instrumentation
and no trajectory code: gauntlet (`traces: otlp`) scores it from the spans the instrumentation
exports.

The model is whatever OpenAI-compatible endpoint `OPENAI_BASE_URL` names (the tests use a local
mock server); the key is `AGENT_MODEL_KEY` (any text for a mock). One request on stdin, one
`{"output": ...}` on stdout: the command protocol.

    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 python agents_sdk_agent.py < request.json
"""

import asyncio
import json
import os
import sys

from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_trace_processors
from openai import AsyncOpenAI
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

ORDERS = {"7": {"status": "shipped", "carrier": "UPS"}}


@function_tool
def lookup_order(order_id: str) -> str:
    """Looks an order up by its id."""
    return json.dumps(ORDERS.get(order_id, {"error": "not found"}))


def instrument():
    # The endpoint, TRACEPARENT and the case's resource attributes come from gauntlet's
    # environment; the SDK's own exporter (to OpenAI's platform) is replaced by OpenInference's.
    provider = TracerProvider(resource=Resource.create({"service.name": "agents-sdk-support"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    set_trace_processors([])
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    return provider


async def main():
    provider = instrument()
    request = json.loads(sys.stdin.read())
    client = AsyncOpenAI(api_key=os.environ.get("AGENT_MODEL_KEY", "unused"))
    agent = Agent(
        name="support",
        instructions="Look orders up before answering.",
        tools=[lookup_order],
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
    )
    result = await Runner.run(agent, request["input"])
    provider.force_flush()
    print(json.dumps({"output": result.final_output}))


if __name__ == "__main__":
    asyncio.run(main())
