/**
 * The soak's proxyctl config: an HTTP/1.1 listener (three clusters by path), an HTTP/2 (h2c)
 * listener and a TCP listener. The flapping backend shares its cluster with a stable one:
 * an active health check takes it out within a second or two of dying, and until then the
 * route's retries (connect failures and resets, which are all a dead host causes) send its
 * requests to the other host. Drains are short so that a reload every 5 s keeps at most three
 * live epochs (the supervisor's limit) without hurrying one.
 */
export interface SoakTopology {
  ports: { http1: number; http2: number; tcp: number };
  staticHosts: readonly number[];
  stable: number;
  flapping: number;
  echo: number;
  /** Relative to the config file. */
  endpointFile: string;
}

const RETRY = 'retryPolicy: { retryOn: [connect-failure, reset, gateway-error], numRetries: 3, perTryTimeout: 5s }';
const HEALTH = 'healthCheck: { http: { path: /healthz }, interval: 1s, timeout: 500ms, unhealthyThreshold: 1, healthyThreshold: 1 }';
const hosts = (ports: readonly number[]): string => `[${ports.map((p) => `127.0.0.1:${p}`).join(', ')}]`;

export function soakConfig(t: SoakTopology): string {
  return [
    'workers: 2',
    'listeners:',
    `  - name: h1`,
    `    address: 127.0.0.1:${t.ports.http1}`,
    '    protocol: http',
    '    routes:',
    `      - { match: { prefix: /flap }, cluster: flapping, timeout: 15s, ${RETRY} }`,
    `      - { match: { prefix: /file }, cluster: files, timeout: 15s, ${RETRY} }`,
    `      - { match: { prefix: / }, cluster: static, timeout: 15s, ${RETRY} }`,
    `  - name: h2`,
    `    address: 127.0.0.1:${t.ports.http2}`,
    '    protocol: http',
    '    http2: true',
    '    routes:',
    `      - { match: { prefix: / }, cluster: files, timeout: 15s, ${RETRY} }`,
    `  - { name: tcp, address: 127.0.0.1:${t.ports.tcp}, protocol: tcp, cluster: echo }`,
    'clusters:',
    `  - { name: static, endpoints: ${hosts(t.staticHosts)} }`,
    `  - { name: files, discovery: file, file: ${t.endpointFile}, ${HEALTH} }`,
    `  - { name: flapping, endpoints: ${hosts([t.flapping, t.stable])}, ${HEALTH} }`,
    `  - { name: echo, endpoints: ${hosts([t.echo])} }`,
    'drain: { strategy: gradual, drainTime: 2s, parentShutdownTime: 6s }',
    '',
  ].join('\n');
}
