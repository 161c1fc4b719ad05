/**
 * Whether tracing is on, and where spans go: kept apart from tracing.ts so that a gateway
 * without tracing never loads the OpenTelemetry packages (~130 ms of start-up).
 */

export interface TracingSettings {
  otlpEndpoint?: string;
  serviceName: string;
  sampleRatio: number;
  propagate: boolean;
}

/** The OTLP traces URL: the configured endpoint, else the standard variables (base + /v1/traces). */
export function tracesUrl(settings: TracingSettings, env: NodeJS.ProcessEnv): string | null {
  const exact = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = settings.otlpEndpoint ?? (exact ? undefined : env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (base) return /\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/+$/, '')}/v1/traces`;
  return exact || null;
}
