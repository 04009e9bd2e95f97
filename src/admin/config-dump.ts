/**
 * The running config for `/config_dump`, with secrets taken out. The rule, applied to every
 * string in the JSON, whatever the key's place:
 *
 *   - the value of a key that names a secret (`key`, `keyFile`, any key with password, passwd,
 *     secret, token, credential, authorization, cookie or api-key in it);
 *   - in an object that describes a header (its `name` or `header` is such a name, e.g. a
 *     header matcher on `authorization`), every other string of that object;
 *   - any string that holds a PEM private key, wherever it is.
 *
 * each become "[redacted]". Certificates and CA bundles are public and stay. Numbers and
 * booleans are never secrets and stay, so the dump still shows the shape of the config.
 */
const REDACTED = '[redacted]';

const SECRET_NAME = /password|passwd|secret|token|credential|authorization|cookie|api[-_]?key/i;

function namesSecret(key: string): boolean {
  return key === 'key' || key === 'keyFile' || SECRET_NAME.test(key);
}

export function redactConfig(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('PRIVATE KEY-----') ? REDACTED : value;
  if (Array.isArray(value)) return value.map(redactConfig);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  const label = typeof obj.name === 'string' ? obj.name : typeof obj.header === 'string' ? obj.header : null;
  const headerIsSecret = label !== null && SECRET_NAME.test(label);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const labelKey = k === 'name' || k === 'header';
    out[k] = typeof v === 'string' && (namesSecret(k) || (headerIsSecret && !labelKey)) ? REDACTED : redactConfig(v);
  }
  return out;
}
