/**
 * OpenTelemetry traces, exported over OTLP/HTTP (JSON), off unless an endpoint is configured
 * (`tracing.otlpEndpoint` or OTEL_EXPORTER_OTLP_ENDPOINT). When off, nothing here is built:
 * no hook, no wrapper, no per-request cost.
 *
 * Two spans per call: the request (server span: method, route template, status) and each
 * upstream attempt (client span: provider, model, status), its child. Spans carry no header,
 * no query string, no body, no key: only the attributes set below. The W3C `traceparent` of
 * the upstream span goes to the provider only with `tracing.propagate: true` (it tells the
 * provider nothing but two random ids, yet some operators will not want even that).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { tracesUrl, type TracingSettings } from './tracing-url.js';
import { UpstreamClient, type UpstreamClientOptions, type UpstreamRequest, type UpstreamResponse } from '../upstream/http-client.js';

export { tracesUrl, type TracingSettings } from './tracing-url.js';

// Only the model name, found near the start of the JSON body (where clients put it): a body
// is never parsed for a span, and nothing else of it is read.
const MODEL_IN_BODY = /"model"\s*:\s*"([^"\\]{1,200})"/;
const MODEL_IN_PATH = /\/models\/([^/:?]{1,200})/;

function modelOf(req: UpstreamRequest): string | undefined {
  return MODEL_IN_PATH.exec(req.path)?.[1] ?? (req.body ? MODEL_IN_BODY.exec(req.body.slice(0, 2048))?.[1] : undefined);
}

export class Tracing {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #current = new AsyncLocalStorage<Span>();
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #propagate: boolean;
  #providerByOrigin = new Map<string, string>();

  constructor(url: string, settings: TracingSettings) {
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
      sampler: new TraceIdRatioBasedSampler(settings.sampleRatio),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
    });
    this.#tracer = this.#provider.getTracer('keygate');
    this.#propagate = settings.propagate;
  }

  /** Which provider an upstream origin belongs to (the registry's origins, read at start-up). */
  setProviders(providers: ReadonlyArray<{ id: string; origin: string }>): void {
    this.#providerByOrigin = new Map([...providers].reverse().map((p) => [p.origin, p.id]));
  }

  /** A request span per request, current for everything the request's handler runs. */
  install(app: FastifyInstance): void {
    const spans = new WeakMap<object, Span>();
    app.addHook('onRequest', (req, _reply, done) => {
      const span = this.#tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, ROOT_CONTEXT);
      spans.set(req, span);
      // run() rather than enterWith(): the span is current for this request's chain only.
      this.#current.run(span, done);
    });
    const end = (req: object, route: string, status: number | null) => {
      const span = spans.get(req);
      if (!span) return;
      spans.delete(req);
      span.updateName(`${(req as { method: string }).method} ${route}`);
      span.setAttribute('http.route', route);
      if (status === null) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the connection' });
      else {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    // Callback style: Fastify makes no promise for a hook that does not wait.
    app.addHook('onResponse', (req, reply, done) => {
      end(req, req.routeOptions.url ?? 'unmatched', reply.statusCode);
      done();
    });
    app.addHook('onRequestAbort', (req, done) => {
      end(req, req.routeOptions.url ?? 'unmatched', null);
      done();
    });
  }

  /** The upstream client whose every call is a child span of the request's. */
  upstreamClient(opts: UpstreamClientOptions): UpstreamClient {
    return new TracedUpstreamClient(opts, this);
  }

  // Origins are a handful of configured ones: each parsed once.
  readonly #hosts = new Map<string, string>();
  #hostOf(origin: string): string {
    let host = this.#hosts.get(origin);
    if (host === undefined) this.#hosts.set(origin, (host = new URL(origin).hostname));
    return host;
  }

  /** @internal */
  startUpstream(req: UpstreamRequest): { span: Span; headers: Record<string, string> } {
    const parent = this.#current.getStore();
    const provider = this.#providerByOrigin.get(req.origin) ?? 'unknown';
    const model = modelOf(req);
    const span = this.#tracer.startSpan(
      `${req.method} ${provider}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': req.method, 'keygate.provider': provider, ...(model ? { 'gen_ai.request.model': model } : {}), 'server.address': this.#hostOf(req.origin) },
      },
      parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
    );
    if (!this.#propagate) return { span, headers: req.headers };
    const headers = { ...req.headers };
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    return { span, headers };
  }

  /** Exports what is buffered (tests, shutdown). */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}

class TracedUpstreamClient extends UpstreamClient {
  readonly #tracing: Tracing;

  constructor(opts: UpstreamClientOptions, tracing: Tracing) {
    super(opts);
    this.#tracing = tracing;
  }

  override async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { span, headers } = this.#tracing.startUpstream(req);
    let res: UpstreamResponse;
    try {
      res = await super.request({ ...req, headers });
    } catch (err) {
      // The error's code only (UND_ERR_...): a message could quote more than it should.
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string } | null)?.code ?? 'request failed' });
      span.end();
      throw err;
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    // The span covers the answer until its body is read (a stream to its end) or dropped.
    res.body.once('close', () => span.end());
    return res;
  }
}

/** Tracing when an OTLP endpoint is configured; null (nothing installed) otherwise. */
export function createTracing(settings: TracingSettings, env: NodeJS.ProcessEnv): Tracing | null {
  const url = tracesUrl(settings, env);
  return url ? new Tracing(url, settings) : null;
}
